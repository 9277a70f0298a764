import type { OrgRole } from '../modules/identity/index.ts';

/** Who is calling, resolved once per request from the session cookie or a bearer token. */
export type Caller =
  | { kind: 'anonymous' }
  | {
      kind: 'member';
      via: 'session' | 'personal_token' | 'system_token';
      orgId: string;
      userId: string | null;
      systemAccountId: string | null;
      roles: OrgRole[];
      sessionId: string | null;
      tokenId: string | null;
    }
  | { kind: 'staff'; userId: string; staffRoles: string[]; sessionId: string };

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
    now: Date;
  }
  interface FastifyContextConfig {
    /** The route changes nothing the read cache keeps: its answers need not wait for change notices. */
    skipReadCacheSync?: boolean;
  }
}
