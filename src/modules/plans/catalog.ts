import { readFileSync } from 'node:fs';

/** One plan of the catalog (spec 2). Amounts in minor units; null where set by contract. */
export interface CatalogPlan {
  id: 'free' | 'plus' | 'enterprise';
  name: string;
  self_serve: boolean;
  monthly_fee: number | null;
  included_requests: number | null;
  overage_per_million: number | null;
  limits: { runtimes: number | null };
  description: string;
}

export interface Catalog {
  currency: string;
  plans: CatalogPlan[];
}

const isCount = (value: unknown) => value === null || (Number.isSafeInteger(value) && (value as number) >= 0);

/** Reads and checks a catalog file; throws an Error naming what is wrong. */
export function loadCatalog(path: string): Catalog {
  const catalog = JSON.parse(readFileSync(path, 'utf8')) as Catalog;
  if (typeof catalog.currency !== 'string' || !/^[a-z]{3}$/.test(catalog.currency)) {
    throw new Error(`catalog ${path}: currency must be a three-letter lower-case code`);
  }
  for (const id of ['free', 'plus', 'enterprise']) {
    const plan = catalog.plans?.find((candidate) => candidate.id === id);
    if (!plan) throw new Error(`catalog ${path}: plan ${id} is missing`);
    for (const field of ['monthly_fee', 'included_requests', 'overage_per_million'] as const) {
      if (!isCount(plan[field])) throw new Error(`catalog ${path}: ${id}.${field} must be a whole number or null`);
    }
    if (!isCount(plan.limits?.runtimes))
      throw new Error(`catalog ${path}: ${id}.limits.runtimes must be a whole number or null`);
  }
  const plus = catalog.plans.find((plan) => plan.id === 'plus') as CatalogPlan;
  if (plus.monthly_fee === null || plus.included_requests === null || plus.overage_per_million === null) {
    throw new Error(`catalog ${path}: plus needs monthly_fee, included_requests and overage_per_million`);
  }
  return catalog;
}

export function catalogPlan(catalog: Catalog, id: string): CatalogPlan | undefined {
  return catalog.plans.find((plan) => plan.id === id);
}

/** How many runtimes an org on the plan may register (null: no fixed cap). */
export function runtimeLimit(catalog: Catalog, plan: string): number | null {
  return (catalogPlan(catalog, plan) ?? catalogPlan(catalog, 'free'))?.limits.runtimes ?? null;
}
