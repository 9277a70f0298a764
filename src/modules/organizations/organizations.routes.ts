import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { decodeCursor, toPage } from '../../db/pagination.ts';
import type { Deps } from '../../deps.ts';
import { requireOrgAccess, requireStaff } from '../../http/auth.ts';
import { errors, ListQuery, OrgParams } from '../../http/schemas.ts';
import { listAuditEvents, presentAuditEvent } from '../audit/index.ts';
import { normalizeEmail } from '../identity/index.ts';
import { listOutbox, presentEmail } from '../notifications/index.ts';
import { getOrg, presentOrg, searchOrgs } from './index.ts';

/** The org itself and its audit log (members), and staff search and outbox. */
export function adminRoutes(deps: Deps) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/orgs/:org_id',
      { schema: { tags: ['organizations'], params: OrgParams, response: errors(401, 404) } },
      async (request) => {
        requireOrgAccess(request, request.params.org_id, 'read');
        return presentOrg(await getOrg(deps.db, request.params.org_id));
      },
    );

    app.get(
      '/orgs/:org_id/audit-events',
      {
        schema: {
          tags: ['organizations'],
          params: OrgParams,
          querystring: ListQuery,
          response: errors(400, 401, 403, 404),
        },
      },
      async (request) => {
        requireOrgAccess(request, request.params.org_id, 'read_admin');
        const limit = request.query.limit ?? 20;
        const rows = await listAuditEvents(
          deps.db,
          request.params.org_id,
          limit + 1,
          decodeCursor(request.query.cursor),
        );
        return toPage(rows, limit, presentAuditEvent);
      },
    );

    app.get(
      '/admin/orgs',
      {
        schema: {
          tags: ['support'],
          querystring: Type.Intersect([
            ListQuery,
            Type.Object({ query: Type.Optional(Type.String({ maxLength: 200, description: 'Name, email or id.' })) }),
          ]),
          response: errors(400, 401, 403),
        },
      },
      async (request) => {
        requireStaff(request);
        const limit = request.query.limit ?? 20;
        const rows = await searchOrgs(deps.db, request.query.query, limit + 1, decodeCursor(request.query.cursor));
        return toPage(rows, limit, presentOrg);
      },
    );

    app.get(
      '/admin/outbox',
      {
        schema: {
          tags: ['support'],
          querystring: Type.Intersect([
            ListQuery,
            Type.Object({
              to: Type.Optional(Type.String({ maxLength: 254, description: 'Only emails to this address.' })),
            }),
          ]),
          response: errors(400, 401, 403),
        },
      },
      async (request) => {
        requireStaff(request);
        const limit = request.query.limit ?? 20;
        const to = request.query.to ? normalizeEmail(request.query.to) : undefined;
        const rows = await listOutbox(deps.db, { to }, limit + 1, decodeCursor(request.query.cursor));
        return toPage(rows, limit, presentEmail);
      },
    );
  };
}
