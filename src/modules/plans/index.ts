export type { Catalog, CatalogPlan } from './catalog.ts';
export { catalogPlan, loadCatalog, runtimeLimit } from './catalog.ts';
