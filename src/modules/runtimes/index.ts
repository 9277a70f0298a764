export { decommissionControlPlaneIn } from './decommission-control-plane.ts';
export type { ControlPlaneRow, RuntimeRow } from './runtimes.repo.ts';
export { findCurrentControlPlane, findRuntimeByToken, touchRuntime } from './runtimes.repo.ts';
export { runtimeState } from './runtimes.ts';
