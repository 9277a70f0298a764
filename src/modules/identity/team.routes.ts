import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { pageInMemory } from '../../db/pagination.ts';
import type { Deps } from '../../deps.ts';
import { actorOf, requireOrgAccess, setSessionCookie } from '../../http/auth.ts';
import { Email, errors, OrgParams, Password, Role, ShortListQuery } from '../../http/schemas.ts';
import { presentOrg } from '../organizations/index.ts';
import { presentUser } from './identity.routes.ts';
import { SESSION_LIMITS } from './identity.ts';
import { acceptInvitation, inviteMember, listInvitations, presentInvitation, revokeInvitation } from './invitations.ts';
import { listMembers, presentMember, removeMember, setMemberRoles, transferOwnership } from './members.ts';
import {
  createSystemAccount,
  createSystemAccountToken,
  deleteSystemAccount,
  listSystemAccounts,
  presentSystemAccount,
  presentSystemToken,
  revokeSystemAccountToken,
} from './system-accounts.ts';
import {
  addTeamMember,
  createTeam,
  deleteTeam,
  listTeams,
  presentTeam,
  removeTeamMember,
  updateTeam,
} from './teams.ts';

const Id = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });
const Roles = Type.Array(Role, { minItems: 1, maxItems: 3, description: 'The roles to grant; roles add up.' });
const Name = (description: string) => Type.String({ minLength: 1, maxLength: 100, description });

const MemberParams = Type.Object({ org_id: OrgParams.properties.org_id, user_id: Id('The user id (usr_…).') });
const TeamParams = Type.Object({ org_id: OrgParams.properties.org_id, team_id: Id('The team id (team_…).') });
const TeamMemberParams = Type.Object({
  org_id: OrgParams.properties.org_id,
  team_id: TeamParams.properties.team_id,
  user_id: MemberParams.properties.user_id,
});
const InvitationParams = Type.Object({
  org_id: OrgParams.properties.org_id,
  invitation_id: Id('The invitation id (inv_…).'),
});
const SystemAccountParams = Type.Object({
  org_id: OrgParams.properties.org_id,
  system_account_id: Id('The system account id (sa_…).'),
});
const SystemTokenParams = Type.Object({
  org_id: OrgParams.properties.org_id,
  system_account_id: SystemAccountParams.properties.system_account_id,
  token_id: Id('The token id (tok_…).'),
});

/** Members and their roles, owner transfer, teams, invitations and system accounts of an org (spec 9). */
export function teamRoutes(deps: Deps) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const { db } = deps;

    app.get(
      '/orgs/:org_id/members',
      {
        schema: {
          tags: ['members'],
          params: OrgParams,
          querystring: ShortListQuery,
          response: errors(400, 401, 403, 404),
        },
      },
      async (request) => {
        requireOrgAccess(request, request.params.org_id, 'read_admin');
        return pageInMemory(
          await listMembers(db, request.params.org_id),
          (member) => ({ createdAt: member.joinedAt, id: member.userId }),
          request.query,
          presentMember,
        );
      },
    );

    app.put(
      '/orgs/:org_id/members/:user_id/roles',
      {
        schema: {
          tags: ['members'],
          params: MemberParams,
          body: Type.Object({ roles: Roles }),
          response: errors(400, 401, 403, 404),
        },
      },
      async (request) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        const member = await setMemberRoles(db, request.now, {
          orgId: caller.orgId,
          actor: actorOf(caller),
          userId: request.params.user_id,
          roles: request.body.roles,
        });
        return presentMember(member);
      },
    );

    app.delete(
      '/orgs/:org_id/members/:user_id',
      { schema: { tags: ['members'], params: MemberParams, response: errors(401, 403, 404, 409) } },
      async (request, reply) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        await removeMember(db, request.now, {
          orgId: caller.orgId,
          actor: actorOf(caller),
          userId: request.params.user_id,
        });
        return reply.status(204).send();
      },
    );

    app.post(
      '/orgs/:org_id/owner-transfer',
      {
        schema: {
          tags: ['members'],
          params: OrgParams,
          body: Type.Object({ user_id: Id('The member who becomes the owner.') }),
          response: errors(400, 401, 403, 404, 409),
        },
      },
      async (request) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'read');
        const result = await transferOwnership(db, request.now, {
          orgId: caller.orgId,
          actor: actorOf(caller),
          callerUserId: caller.systemAccountId ? null : caller.userId,
          newOwnerUserId: request.body.user_id,
        });
        return {
          org: presentOrg(result.org),
          owner: presentMember(result.owner),
          previous_owner: presentMember(result.previousOwner),
        };
      },
    );

    app.post(
      '/orgs/:org_id/teams',
      {
        schema: {
          tags: ['teams'],
          params: OrgParams,
          body: Type.Object({ name: Name('The team name, unique in the org.'), roles: Roles }),
          response: errors(400, 401, 403, 404, 409),
        },
      },
      async (request, reply) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        const team = await createTeam(db, request.now, {
          orgId: caller.orgId,
          actor: actorOf(caller),
          name: request.body.name,
          roles: request.body.roles,
        });
        return reply.status(201).send(presentTeam(team));
      },
    );

    app.get(
      '/orgs/:org_id/teams',
      {
        schema: {
          tags: ['teams'],
          params: OrgParams,
          querystring: ShortListQuery,
          response: errors(400, 401, 403, 404),
        },
      },
      async (request) => {
        requireOrgAccess(request, request.params.org_id, 'read_admin');
        return pageInMemory(await listTeams(db, request.params.org_id), (team) => team, request.query, presentTeam);
      },
    );

    app.patch(
      '/orgs/:org_id/teams/:team_id',
      {
        schema: {
          tags: ['teams'],
          params: TeamParams,
          body: Type.Object({
            name: Type.Optional(Name('A new name for the team.')),
            roles: Type.Optional(Roles),
          }),
          response: errors(400, 401, 403, 404, 409),
        },
      },
      async (request) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        const team = await updateTeam(db, request.now, {
          orgId: caller.orgId,
          actor: actorOf(caller),
          teamId: request.params.team_id,
          name: request.body.name,
          roles: request.body.roles,
        });
        return presentTeam(team);
      },
    );

    app.delete(
      '/orgs/:org_id/teams/:team_id',
      { schema: { tags: ['teams'], params: TeamParams, response: errors(401, 403, 404) } },
      async (request, reply) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        await deleteTeam(db, request.now, {
          orgId: caller.orgId,
          actor: actorOf(caller),
          teamId: request.params.team_id,
        });
        return reply.status(204).send();
      },
    );

    app.put(
      '/orgs/:org_id/teams/:team_id/members/:user_id',
      { schema: { tags: ['teams'], params: TeamMemberParams, response: errors(401, 403, 404) } },
      async (request) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        const team = await addTeamMember(db, request.now, {
          orgId: caller.orgId,
          actor: actorOf(caller),
          teamId: request.params.team_id,
          userId: request.params.user_id,
        });
        return presentTeam(team);
      },
    );

    app.delete(
      '/orgs/:org_id/teams/:team_id/members/:user_id',
      { schema: { tags: ['teams'], params: TeamMemberParams, response: errors(401, 403, 404) } },
      async (request, reply) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        await removeTeamMember(db, request.now, {
          orgId: caller.orgId,
          actor: actorOf(caller),
          teamId: request.params.team_id,
          userId: request.params.user_id,
        });
        return reply.status(204).send();
      },
    );

    app.post(
      '/orgs/:org_id/invitations',
      {
        schema: {
          tags: ['invitations'],
          params: OrgParams,
          body: Type.Object({ email: Email, roles: Roles }),
          response: errors(400, 401, 403, 404, 409),
        },
      },
      async (request, reply) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        const { invitation } = await inviteMember(db, request.now, {
          orgId: caller.orgId,
          actor: actorOf(caller),
          email: request.body.email,
          roles: request.body.roles,
        });
        // The token travels only by email: whoever can read this answer must not be able to accept.
        return reply.status(201).send(presentInvitation(invitation));
      },
    );

    app.get(
      '/orgs/:org_id/invitations',
      {
        schema: {
          tags: ['invitations'],
          params: OrgParams,
          querystring: ShortListQuery,
          response: errors(400, 401, 403, 404),
        },
      },
      async (request) => {
        requireOrgAccess(request, request.params.org_id, 'read_admin');
        return pageInMemory(
          await listInvitations(db, request.params.org_id),
          (row) => row,
          request.query,
          presentInvitation,
        );
      },
    );

    app.delete(
      '/orgs/:org_id/invitations/:invitation_id',
      { schema: { tags: ['invitations'], params: InvitationParams, response: errors(401, 403, 404) } },
      async (request, reply) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        await revokeInvitation(db, request.now, {
          orgId: caller.orgId,
          actor: actorOf(caller),
          invitationId: request.params.invitation_id,
        });
        return reply.status(204).send();
      },
    );

    app.post(
      '/invitations/accept',
      {
        schema: {
          tags: ['invitations'],
          body: Type.Object({
            token: Type.String({ minLength: 1, maxLength: 200, description: 'The token from the invitation email.' }),
            password: Password,
            full_name: Type.Optional(
              Type.String({ maxLength: 200, description: "The new person's full name; existing users omit it." }),
            ),
          }),
          response: errors(400, 401, 403, 404, 410),
        },
      },
      async (request, reply) => {
        const result = await acceptInvitation(db, request.now, {
          token: request.body.token,
          password: request.body.password,
          fullName: request.body.full_name,
        });
        setSessionCookie(reply, result.session.token, SESSION_LIMITS.absoluteSeconds);
        return { user: presentUser(result.user), org: presentOrg(result.org), roles: result.roles };
      },
    );

    app.post(
      '/orgs/:org_id/system-accounts',
      {
        schema: {
          tags: ['system accounts'],
          params: OrgParams,
          body: Type.Object({ name: Name('What the system account is for.'), roles: Roles }),
          response: errors(400, 401, 403, 404),
        },
      },
      async (request, reply) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        const account = await createSystemAccount(db, request.now, {
          orgId: caller.orgId,
          actor: actorOf(caller),
          name: request.body.name,
          roles: request.body.roles,
        });
        return reply.status(201).send(presentSystemAccount(account));
      },
    );

    app.get(
      '/orgs/:org_id/system-accounts',
      {
        schema: {
          tags: ['system accounts'],
          params: OrgParams,
          querystring: ShortListQuery,
          response: errors(400, 401, 403, 404),
        },
      },
      async (request) => {
        requireOrgAccess(request, request.params.org_id, 'read_admin');
        return pageInMemory(
          await listSystemAccounts(db, request.params.org_id),
          (account) => account,
          request.query,
          presentSystemAccount,
        );
      },
    );

    app.delete(
      '/orgs/:org_id/system-accounts/:system_account_id',
      { schema: { tags: ['system accounts'], params: SystemAccountParams, response: errors(401, 403, 404) } },
      async (request, reply) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        await deleteSystemAccount(db, request.now, {
          orgId: caller.orgId,
          actor: actorOf(caller),
          systemAccountId: request.params.system_account_id,
        });
        return reply.status(204).send();
      },
    );

    app.post(
      '/orgs/:org_id/system-accounts/:system_account_id/tokens',
      {
        schema: {
          tags: ['system accounts'],
          params: SystemAccountParams,
          body: Type.Object({
            name: Name('What the token is for.'),
            expires_in_days: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 3650, description: 'Days until it expires; never when omitted.' }),
            ),
          }),
          response: errors(400, 401, 403, 404),
        },
      },
      async (request, reply) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        const created = await createSystemAccountToken(db, request.now, {
          orgId: caller.orgId,
          actor: actorOf(caller),
          systemAccountId: request.params.system_account_id,
          name: request.body.name,
          expiresInDays: request.body.expires_in_days,
        });
        return reply.status(201).send({ token: created.token, ...presentSystemToken(created.row) });
      },
    );

    app.delete(
      '/orgs/:org_id/system-accounts/:system_account_id/tokens/:token_id',
      { schema: { tags: ['system accounts'], params: SystemTokenParams, response: errors(401, 403, 404) } },
      async (request, reply) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        await revokeSystemAccountToken(db, request.now, {
          orgId: caller.orgId,
          actor: actorOf(caller),
          systemAccountId: request.params.system_account_id,
          tokenId: request.params.token_id,
        });
        return reply.status(204).send();
      },
    );
  };
}
