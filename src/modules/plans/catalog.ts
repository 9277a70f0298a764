/** The plan catalog's defaults (spec 2). Amounts in minor units. */
export interface PlanLimits {
  runtimes: number | null;
}

const DEFAULT_LIMITS: Record<string, PlanLimits> = {
  free: { runtimes: 3 },
  plus: { runtimes: 100 },
  enterprise: { runtimes: null },
};

/** How many runtimes an org on the plan may register (null: set by contract, no fixed cap). */
export function runtimeLimit(plan: string): number | null {
  return (DEFAULT_LIMITS[plan] ?? DEFAULT_LIMITS.free).runtimes;
}
