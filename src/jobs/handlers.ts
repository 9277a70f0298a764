import { expireInvitationHandler, INVITATION_EXPIRY } from '../modules/identity/invitations.ts';
import type { DueWorkRunner } from './runner.ts';

/** Every kind of due work Tierline knows, registered on the runner. */
export function registerDueWork(runner: DueWorkRunner): void {
  runner.register(INVITATION_EXPIRY, expireInvitationHandler);
}
