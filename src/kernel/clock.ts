/** The only place that reads the real time. Everything else receives instants. */
export interface Clock {
  /** The current instant: real time, or the persisted test clock. */
  now(): Promise<Date>;
  readonly isTestClock: boolean;
}

export const systemClock: Clock = {
  isTestClock: false,
  now: async () => new Date(),
};

/** Reads the real time once, for seeding a test clock at start. */
export function realNow(): Date {
  return new Date();
}
