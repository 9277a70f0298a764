import { timestamp } from 'drizzle-orm/pg-core';

/** A UTC instant with millisecond precision (spec 3). */
export const instant = (name: string) => timestamp(name, { withTimezone: true, precision: 3, mode: 'date' });
