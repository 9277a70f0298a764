export { checkInactivity } from './check-inactivity.ts';
export { deactivateOrgsIn } from './deactivate-orgs.ts';
export { lifecycleRoutes } from './lifecycle.routes.ts';
