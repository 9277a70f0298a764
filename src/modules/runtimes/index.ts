export { decommissionControlPlaneIn } from './decommission-control-plane.ts';
export type { ControlPlaneRow, RuntimeRow } from './runtimes.repo.ts';
export { findCurrentControlPlane, findLiveRuntime, findRuntimeByToken, touchRuntime } from './runtimes.repo.ts';
export { runtimeState } from './runtimes.ts';
