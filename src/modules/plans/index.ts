export type { PlanLimits } from './catalog.ts';
export { runtimeLimit } from './catalog.ts';
