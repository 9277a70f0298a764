import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { decodeCursor, toPage } from '../../db/pagination.ts';
import type { Deps } from '../../deps.ts';
import { actorOf, requireStaff } from '../../http/auth.ts';
import { bodyOptional, errors, ListQuery, OrgParams } from '../../http/schemas.ts';
import { type EmailLockRow, listEmailLocks, normalizeEmail } from '../identity/index.ts';
import {
  countProjectedDeactivationsByDay,
  listProjectedDeactivations,
  type OrgRecord,
  presentOrg,
} from '../organizations/index.ts';
import { deactivateOrg } from './deactivate-orgs.ts';
import { reactivateOrg } from './reactivate-org.ts';
import { staffOrgDetail } from './staff-org-detail.ts';
import { unlockEmailByStaff } from './unlock-email.ts';

function presentLock(lock: EmailLockRow & { orgName?: string | null }) {
  return {
    id: lock.id,
    email: lock.email,
    org_id: lock.orgId,
    org_name: lock.orgName ?? null,
    reason: lock.reason,
    created_at: lock.createdAt.toISOString(),
  };
}

const DAY_MS = 86_400_000;

/** Support's lifecycle tools: org detail, deactivate, reactivate, email locks and the forecast. */
export function lifecycleRoutes(deps: Deps) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const { db, payments } = deps;

    app.get(
      '/admin/orgs/:org_id',
      { schema: { tags: ['support'], params: OrgParams, response: errors(401, 403, 404) } },
      async (request) => {
        requireStaff(request);
        return staffOrgDetail(db, request.now, request.params.org_id);
      },
    );

    app.post(
      '/admin/orgs/:org_id/deactivate',
      {
        schema: {
          tags: ['support'],
          params: OrgParams,
          body: Type.Object({
            reason: Type.String({
              maxLength: 500,
              description: 'Why: support_request, owner_request, abuse, or a sentence. Kept in the audit log.',
            }),
          }),
          response: errors(400, 401, 403, 404, 409),
        },
      },
      async (request) => {
        const caller = requireStaff(request, 'support');
        const org = await deactivateOrg(db, payments, request.now, {
          orgId: request.params.org_id,
          reason: request.body.reason,
          actor: actorOf(caller),
        });
        return presentOrg(org);
      },
    );

    app.post(
      '/admin/orgs/:org_id/reactivate',
      {
        schema: {
          tags: ['support'],
          params: OrgParams,
          body: Type.Object({
            restore_memberships: Type.Optional(
              Type.Boolean({
                default: false,
                description: 'Give back the roles, team memberships and system-account roles deactivation removed.',
              }),
            ),
          }),
          response: errors(400, 401, 403, 404, 409),
        },
        preValidation: bodyOptional,
      },
      async (request) => {
        const caller = requireStaff(request, 'support');
        const org = await reactivateOrg(db, request.now, {
          orgId: request.params.org_id,
          restoreMemberships: request.body.restore_memberships === true,
          actor: actorOf(caller),
        });
        return presentOrg(org);
      },
    );

    app.get(
      '/admin/email-locks',
      {
        schema: {
          tags: ['support'],
          querystring: Type.Intersect([
            ListQuery,
            Type.Object({
              email: Type.Optional(Type.String({ maxLength: 254, description: 'Only locks of this email.' })),
            }),
          ]),
          response: errors(400, 401, 403),
        },
      },
      async (request) => {
        requireStaff(request, 'support');
        const limit = request.query.limit ?? 20;
        const rows = await listEmailLocks(db, {
          limit: limit + 1,
          cursor: decodeCursor(request.query.cursor),
          email: request.query.email ? normalizeEmail(request.query.email) : undefined,
        });
        return toPage(rows, limit, presentLock);
      },
    );

    app.delete(
      '/admin/email-locks/:email',
      {
        schema: {
          tags: ['support'],
          params: Type.Object({
            email: Type.String({ minLength: 1, maxLength: 254, description: 'The locked email.' }),
          }),
          response: errors(401, 403, 404),
        },
      },
      async (request) => {
        const caller = requireStaff(request, 'support');
        const lifted = await unlockEmailByStaff(db, request.now, {
          email: request.params.email,
          actor: actorOf(caller),
        });
        return { email: lifted[0].email, unlocked: lifted.map(presentLock) };
      },
    );

    app.get(
      '/admin/lifecycle/forecast',
      {
        schema: {
          tags: ['support'],
          querystring: Type.Intersect([
            ListQuery,
            Type.Object({
              days: Type.Integer({ minimum: 0, maximum: 366, description: 'How many days ahead to look.' }),
            }),
          ]),
          response: errors(400, 401, 403),
        },
      },
      async (request) => {
        requireStaff(request);
        const limit = request.query.limit ?? 20;
        const until = new Date(request.now.getTime() + request.query.days * DAY_MS);
        const cursor = decodeCursor(request.query.cursor);
        const rows = await listProjectedDeactivations(db, {
          until,
          limit: limit + 1,
          after: cursor ? { at: cursor.createdAt, id: cursor.id } : undefined,
        });
        const keyed = rows.map((org) => ({ org, createdAt: org.projectedDeactivationAt as Date, id: org.id }));
        const page = toPage(keyed, limit, ({ org }: { org: OrgRecord }) => ({
          ...presentOrg(org),
          deactivates_at: (org.projectedDeactivationAt as Date).toISOString(),
        }));
        return { as_of: request.now.toISOString(), until: until.toISOString(), ...page };
      },
    );

    app.get(
      '/admin/lifecycle/forecast/daily',
      {
        schema: {
          tags: ['support'],
          querystring: Type.Object({
            days: Type.Integer({ minimum: 0, maximum: 366, description: 'How many days ahead to look.' }),
          }),
          response: errors(400, 401, 403),
        },
      },
      async (request) => {
        requireStaff(request);
        const until = new Date(request.now.getTime() + request.query.days * DAY_MS);
        const days = await countProjectedDeactivationsByDay(db, until);
        return {
          as_of: request.now.toISOString(),
          until: until.toISOString(),
          days: days.map((entry) => ({ day: entry.day.toISOString().slice(0, 10), count: entry.count })),
        };
      },
    );
  };
}
