export { decommissionControlPlanesIn } from './decommission-control-plane.ts';
export type { ControlPlaneRow, RuntimeRow } from './runtimes.repo.ts';
export {
  findCurrentControlPlane,
  findLiveRuntime,
  findRuntimeByToken,
  listRuntimes,
  touchRuntime,
} from './runtimes.repo.ts';
export { presentRuntime } from './runtimes.routes.ts';
export { runtimeState } from './runtimes.ts';
