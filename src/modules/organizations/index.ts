export {
  findActiveControlPlane,
  findOrg,
  getOrg,
  insertOrg,
  lockOrg,
  lockOrgs,
  recordOrgLogin,
  searchOrgs,
  setOrgPlan,
} from './organizations.repo.ts';
export type { OrgRecord, OrgStatus, Plan } from './organizations.ts';
export { orgDeactivated, PLANS, presentOrg, validateOrgName } from './organizations.ts';
