import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Deps } from '../../deps.ts';
import { requireStaff } from '../../http/auth.ts';
import { Email, errors, Password, StaffRole } from '../../http/schemas.ts';
import { listStaffUsers, type UserRow } from './identity.repo.ts';
import { presentUser } from './identity.routes.ts';
import { createStaffMember } from './staff.ts';

const CreateStaffBody = Type.Object({
  email: Email,
  password: Password,
  full_name: Type.String({ minLength: 1, maxLength: 200, description: "The staff member's full name." }),
  roles: Type.Array(StaffRole, {
    minItems: 1,
    maxItems: 3,
    description: 'Staff roles: support, sales, admin (admin holds both support and sales).',
  }),
});

function presentStaff(user: UserRow) {
  return { user: presentUser(user), staff_roles: user.staffRoles };
}

/** The staff console's people: admins create staff members and list them. */
export function staffRoutes(deps: Deps) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/admin/staff',
      { schema: { tags: ['staff'], body: CreateStaffBody, response: errors(400, 401, 403, 409) } },
      async (request, reply) => {
        const caller = requireStaff(request, 'admin');
        const user = await createStaffMember(deps.db, request.now, {
          actorId: caller.userId,
          email: request.body.email,
          password: request.body.password,
          fullName: request.body.full_name,
          roles: request.body.roles,
        });
        return reply.status(201).send(presentStaff(user));
      },
    );

    app.get('/admin/staff', { schema: { tags: ['staff'], response: errors(401, 403) } }, async (request) => {
      requireStaff(request, 'admin');
      const rows = await listStaffUsers(deps.db);
      return { data: rows.map(presentStaff), next_cursor: null };
    });
  };
}
