import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';

/** Schemas shared by many routes; each request field is described once, here or in its route. */
export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'A stable snake_case code.' }),
      message: Type.String({ description: 'A sentence for a person.' }),
      field: Type.Optional(Type.String({ description: 'The request field at fault, for validation errors.' })),
    }),
  },
  { $id: 'Error' },
);

export const Email = Type.String({ minLength: 3, maxLength: 254, description: 'An email address.' });
export const Password = Type.String({
  minLength: 1,
  maxLength: 1024,
  description: 'A password of 8 to 128 characters.',
});

export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Page size.' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'The next_cursor of the previous page.' })),
});

export const OrgParams = Type.Object({
  org_id: Type.String({ minLength: 1, maxLength: 64, description: 'The organization id (org_…).' }),
});

export const Role = Type.Union(
  [Type.Literal('org_admin'), Type.Literal('org_admin_read_only'), Type.Literal('member')],
  { description: 'A role that can be granted: org_admin, org_admin_read_only or member.' },
);

export const StaffRole = Type.Union([Type.Literal('support'), Type.Literal('sales'), Type.Literal('admin')]);

/** An open object: responses are documented loosely where the shape is given in SPEC.md. */
export const AnyObject = Type.Object({}, { additionalProperties: true });

/** Standard error responses for a route's OpenAPI entry. */
export function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [status, Type.Ref('Error')]));
}

/** The query of a short list: without limit or cursor the whole list comes in one page. */
export const ShortListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Page size.' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'The next_cursor of the previous page.' })),
});

/** A preValidation hook: a POST whose fields are all optional may come without a body, read as `{}`. */
export async function bodyOptional(request: FastifyRequest) {
  request.body ??= {};
}
