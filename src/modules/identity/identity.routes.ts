import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { pageInMemory } from '../../db/pagination.ts';
import type { Deps } from '../../deps.ts';
import { clearSessionCookie, requireSession, setSessionCookie } from '../../http/auth.ts';
import { Email, errors, Password, ShortListQuery } from '../../http/schemas.ts';
import { fail } from '../../kernel/errors.ts';
import { getOrg, presentOrg } from '../organizations/index.ts';
import { createPersonalToken, presentToken } from './create-personal-token.ts';
import {
  endSession,
  getUser,
  listPersonalTokens,
  listUserOrgs,
  revokePersonalToken,
  type UserRow,
} from './identity.repo.ts';
import { SESSION_LIMITS } from './identity.ts';
import { logIn } from './log-in.ts';
import { signUp } from './sign-up.ts';
import { switchOrg } from './switch-org.ts';

export function presentUser(user: UserRow) {
  return { id: user.id, email: user.email, full_name: user.fullName, created_at: user.createdAt.toISOString() };
}

const SignUpBody = Type.Object({
  email: Email,
  password: Password,
  full_name: Type.String({ minLength: 1, maxLength: 200, description: "The person's full name." }),
  org_name: Type.String({ minLength: 1, maxLength: 100, description: "The new organization's name." }),
});

const LoginBody = Type.Object({
  email: Email,
  password: Password,
  org_id: Type.Optional(Type.String({ maxLength: 64, description: 'The org to log into; staff omit it.' })),
});

/** Sign-up, login, logout, org switching, the caller and personal tokens. */
export function identityRoutes(deps: Deps) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const sessionSeconds = SESSION_LIMITS.absoluteSeconds;

    app.post(
      '/signup',
      { schema: { tags: ['identity'], body: SignUpBody, response: errors(400, 409) } },
      async (request, reply) => {
        const body = request.body;
        const result = await signUp(deps.db, request.now, {
          email: body.email,
          password: body.password,
          fullName: body.full_name,
          orgName: body.org_name,
        });
        setSessionCookie(reply, result.session.token, sessionSeconds);
        return reply
          .status(201)
          .send({ user: presentUser(result.user), org: presentOrg(result.org), roles: result.roles });
      },
    );

    app.post(
      '/auth/login',
      { schema: { tags: ['identity'], body: LoginBody, response: errors(400, 401, 403, 404, 429) } },
      async (request, reply) => {
        const result = await logIn(deps.db, request.now, {
          email: request.body.email,
          password: request.body.password,
          orgId: request.body.org_id,
          address: request.ip,
        });
        setSessionCookie(reply, result.session.token, sessionSeconds);
        if (!('orgId' in result)) {
          return { user: presentUser(result.user), org: null, staff_roles: result.user.staffRoles };
        }
        const org = await getOrg(deps.db, result.orgId);
        return { user: presentUser(result.user), org: presentOrg(org), roles: result.roles };
      },
    );

    app.post('/auth/logout', { schema: { tags: ['identity'] } }, async (request, reply) => {
      const caller = request.caller;
      const sessionId = caller.kind === 'member' || caller.kind === 'staff' ? caller.sessionId : null;
      if (!sessionId) throw fail.unauthenticated('There is no session to end.');
      await endSession(deps.db, sessionId, request.now);
      clearSessionCookie(reply);
      return reply.status(204).send();
    });

    app.post(
      '/auth/switch-org',
      {
        schema: {
          tags: ['identity'],
          body: Type.Object({ org_id: Type.String({ minLength: 1, maxLength: 64 }) }),
          response: errors(400, 401, 403, 404),
        },
      },
      async (request, reply) => {
        const caller = requireSession(request);
        const result = await switchOrg(deps.db, request.now, {
          userId: caller.userId as string,
          sessionId: caller.sessionId as string,
          orgId: request.body.org_id,
        });
        setSessionCookie(reply, result.session.token, sessionSeconds);
        const user = await getUser(deps.db, caller.userId as string);
        // Read the org again: the switch counted as a login and moved its last_login_at.
        const org = await getOrg(deps.db, result.org.id);
        return { user: presentUser(user), org: presentOrg(org), roles: result.roles };
      },
    );

    app.get('/me', { schema: { tags: ['identity'], response: errors(401) } }, async (request) => {
      const caller = request.caller;
      if (caller.kind === 'anonymous') throw fail.unauthenticated();
      if (caller.kind === 'staff') {
        const user = await getUser(deps.db, caller.userId);
        return { user: presentUser(user), staff_roles: caller.staffRoles };
      }
      const org = await getOrg(deps.db, caller.orgId);
      const user = caller.userId ? await getUser(deps.db, caller.userId) : null;
      const orgs = caller.userId ? await listUserOrgs(deps.db, caller.userId) : [];
      return {
        user: user ? presentUser(user) : null,
        system_account_id: caller.systemAccountId,
        org: presentOrg(org),
        roles: caller.roles,
        via: caller.via,
        orgs: orgs.map((entry) => ({ id: entry.id, name: entry.name, status: entry.status, plan: entry.plan })),
      };
    });

    app.post(
      '/me/tokens',
      {
        schema: {
          tags: ['identity'],
          body: Type.Object({
            name: Type.String({ minLength: 1, maxLength: 100, description: 'What the token is for.' }),
            expires_in_days: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 3650, description: 'Days until it expires.' }),
            ),
          }),
          response: errors(400, 401, 403),
        },
      },
      async (request, reply) => {
        const caller = requireSession(request);
        const created = await createPersonalToken(deps.db, request.now, {
          orgId: caller.orgId,
          userId: caller.userId as string,
          name: request.body.name,
          expiresInDays: request.body.expires_in_days,
        });
        return reply.status(201).send({ token: created.token, ...presentToken(created.row) });
      },
    );

    app.get('/me/tokens', { schema: { tags: ['identity'], querystring: ShortListQuery } }, async (request) => {
      const caller = requireSession(request);
      const rows = await listPersonalTokens(deps.db, caller.orgId, caller.userId as string);
      return pageInMemory(rows, (row) => row, request.query, presentToken);
    });

    app.delete(
      '/me/tokens/:token_id',
      {
        schema: {
          tags: ['identity'],
          params: Type.Object({ token_id: Type.String({ maxLength: 64 }) }),
          response: errors(401, 404),
        },
      },
      async (request, reply) => {
        const caller = requireSession(request);
        await revokePersonalToken(deps.db, request.now, {
          orgId: caller.orgId,
          userId: caller.userId as string,
          tokenId: request.params.token_id,
        });
        return reply.status(204).send();
      },
    );
  };
}
