import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../db/client.ts';
import type { OrgReadCache } from '../db/read-cache.ts';
import { AppError, fail } from '../kernel/errors.ts';
import { hashSecret } from '../kernel/ids.ts';
import {
  type Access,
  effectiveRoles,
  endSession,
  findSessionByToken,
  findTokenCaller,
  getUser,
  hasAccess,
  hasStaffRole,
  rolesInOrg,
  SESSION_LIMITS,
  type StaffRole,
  touchSession,
} from '../modules/identity/index.ts';
import { findOrg, orgDeactivated } from '../modules/organizations/index.ts';
import { findRuntimeByToken, touchRuntime } from '../modules/runtimes/index.ts';
import type { Caller } from './caller.ts';

export const SESSION_COOKIE = 'tierline_session';

/** Resolves the caller from a bearer token or the session cookie; invalid credentials are a 401. */
export async function resolveCaller(db: Database, cache: OrgReadCache, request: FastifyRequest): Promise<Caller> {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw fail.unauthenticated('The Authorization header must be "Bearer <token>".');
    const secret = match[1];
    if (secret.startsWith('tlp_') || secret.startsWith('tlsa_')) return resolveApiToken(db, cache, request.now, secret);
    // Runtime tokens are resolved by the runtime routes themselves.
    return { kind: 'anonymous' };
  }
  const cookie = request.cookies[SESSION_COOKIE];
  if (!cookie) return { kind: 'anonymous' };
  return (await resolveSession(db, request.now, cookie)) ?? { kind: 'anonymous' };
}

async function resolveApiToken(db: Database, cache: OrgReadCache, now: Date, secret: string): Promise<Caller> {
  // One statement, or none while nothing about the token's org changed: the token, its org's status
  // and the caller's roles. Revocation, expiry and a deactivated org are checked on every request.
  const hash = hashSecret(secret);
  const found = await cache.read(
    `token:${hash}`,
    (row) => row?.token.orgId,
    () => findTokenCaller(db, hash),
  );
  const token = found?.token;
  if (!token || token.revokedAt) throw fail.unauthenticated('The token is not valid.');
  if (token.expiresAt && token.expiresAt <= now) throw fail.unauthenticated('The token has expired.');
  if (!found.orgStatus) throw fail.unauthenticated('The token is not valid.');
  if (found.orgStatus !== 'active') throw orgDeactivated();
  let roles: ReturnType<typeof effectiveRoles>;
  if (token.kind === 'personal') {
    roles = effectiveRoles(found.roles ?? [], []);
    if (roles.length === 0) throw fail.forbidden('not_a_member', 'You are no longer a member of this organization.');
  } else {
    if (!found.roles) throw fail.unauthenticated('The token is not valid.');
    roles = effectiveRoles(found.roles, []);
    // Deactivation removes a system account's roles; it has no access until they come back.
    if (roles.length === 0)
      throw fail.forbidden('not_a_member', 'This system account has no role in this organization.');
  }
  return {
    kind: 'member',
    via: token.kind === 'personal' ? 'personal_token' : 'system_token',
    orgId: token.orgId,
    userId: token.userId,
    systemAccountId: token.systemAccountId,
    roles,
    sessionId: null,
    tokenId: token.id,
  };
}

async function resolveSession(db: Database, now: Date, secret: string): Promise<Caller | undefined> {
  const session = await findSessionByToken(db, secret);
  if (!session || session.endedAt) return undefined;
  const idleLimit = new Date(session.lastSeenAt.getTime() + SESSION_LIMITS.idleSeconds * 1000);
  if (session.expiresAt <= now || idleLimit <= now) {
    await endSession(db, session.id, now);
    return undefined;
  }
  if (now.getTime() - session.lastSeenAt.getTime() > 60_000) await touchSession(db, session.id, now);
  if (session.isStaff) {
    const user = await getUser(db, session.userId);
    if (user.staffRoles.length === 0) return undefined;
    return { kind: 'staff', userId: user.id, staffRoles: user.staffRoles, sessionId: session.id };
  }
  const orgId = session.orgId as string;
  const org = await findOrg(db, orgId);
  if (org?.status !== 'active') return undefined;
  const roles = await rolesInOrg(db, orgId, session.userId);
  if (roles.length === 0) return undefined;
  return {
    kind: 'member',
    via: 'session',
    orgId,
    userId: session.userId,
    systemAccountId: null,
    roles,
    sessionId: session.id,
    tokenId: null,
  };
}

/** The caller must be a member of this org with the access; another org's caller gets a 404. */
export function requireOrgAccess(request: FastifyRequest, orgId: string, access: Access) {
  const caller = request.caller;
  if (caller.kind === 'anonymous') throw fail.unauthenticated();
  if (caller.kind !== 'member' || caller.orgId !== orgId) throw fail.notFound('organization');
  if (!hasAccess(caller.roles, access)) {
    const needed = access === 'manage' ? 'an owner or org_admin' : 'an org admin (read-only or full)';
    throw new AppError(403, 'insufficient_role', `This needs ${needed} role.`);
  }
  return caller;
}

/** The caller must be a person logged in with a session (not a token). */
export function requireSession(request: FastifyRequest) {
  const caller = request.caller;
  if (caller.kind === 'anonymous') throw fail.unauthenticated();
  if (caller.kind !== 'member' || caller.via !== 'session') {
    throw fail.forbidden('session_required', 'This needs a logged-in session, not a token.');
  }
  return caller;
}

/** The caller must be staff holding the role (admin holds support and sales). */
export function requireStaff(request: FastifyRequest, role?: StaffRole) {
  const caller = request.caller;
  if (caller.kind === 'anonymous') throw fail.unauthenticated();
  if (caller.kind !== 'staff') throw fail.forbidden('staff_required', 'This needs a staff session.');
  if (role && !hasStaffRole(caller.staffRoles, role)) {
    throw fail.forbidden('insufficient_staff_role', `This needs the ${role} staff role.`);
  }
  return caller;
}

/** The actor recorded in audit events for this caller. */
export function actorOf(caller: Caller) {
  if (caller.kind === 'staff') return { type: 'staff' as const, id: caller.userId };
  if (caller.kind === 'member') {
    return caller.systemAccountId
      ? { type: 'system_account' as const, id: caller.systemAccountId }
      : { type: 'user' as const, id: caller.userId };
  }
  return { type: 'anonymous' as const, id: null };
}

export function setSessionCookie(reply: FastifyReply, token: string, maxAgeSeconds: number) {
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: true,
    maxAge: maxAgeSeconds,
  });
}

export function clearSessionCookie(reply: FastifyReply) {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: true });
}

/**
 * The runtime calling with `Authorization: Bearer <runtime token>`. A deleted runtime or unknown
 * token is a 401; a decommissioned control plane a 403 (spec 6). Marks the runtime as seen.
 */
export async function requireRuntime(db: Database, request: FastifyRequest) {
  const found = await findRuntimeByToken(db, runtimeTokenOf(request));
  if (!found) throw fail.unauthenticated('The runtime token is not valid.');
  if (found.controlPlane.status !== 'active') {
    throw fail.forbidden('control_plane_decommissioned', 'This runtime’s control plane is decommissioned.');
  }
  await touchRuntime(db, found.runtime.orgId, found.runtime.id, request.now);
  return found;
}

/** The runtime token in `Authorization: Bearer <token>`; anything else is a 401. */
export function runtimeTokenOf(request: FastifyRequest): string {
  const match = /^Bearer\s+(tlrt_\S+)$/i.exec(request.headers.authorization ?? '');
  if (!match) throw fail.unauthenticated('Send the runtime token as "Authorization: Bearer <token>".');
  return match[1];
}
