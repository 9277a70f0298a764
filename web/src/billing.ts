import type { Catalog, InvoiceStatus, OrgRole, PaymentMethod, Plan, PlanId, Subscription } from './api.ts';
import { brandName, formatMoney, formatNumber } from './format.ts';

export const PLAN_NAMES: Record<PlanId, string> = { free: 'Free', plus: 'Plus', enterprise: 'Enterprise' };

/** Owners and org admins change the plan and cards (spec 4); read-only admins may see the cards. */
export const canManageBilling = (roles: readonly OrgRole[]) => roles.includes('owner') || roles.includes('org_admin');
export const canSeePaymentMethods = (roles: readonly OrgRole[]) =>
  canManageBilling(roles) || roles.includes('org_admin_read_only');

/** "$100.00 / month", "Free" or "Custom pricing". */
export function planPrice(plan: Plan, currency: string): string {
  if (plan.monthly_fee === null) return 'Custom pricing';
  if (plan.monthly_fee === 0) return `${formatMoney(0, currency)} / month`;
  return `${formatMoney(plan.monthly_fee, currency)} / month`;
}

/** What a plan includes, one short line each, from the catalog. */
export function planFeatures(plan: Plan, currency: string): string[] {
  const features: string[] = [];
  if (plan.id === 'free') features.push('Unlimited API requests, not billed');
  else if (plan.included_requests !== null) {
    features.push(`${formatNumber(plan.included_requests)} requests included per invoice`);
  }
  if (plan.overage_per_million !== null) {
    features.push(`${formatMoney(plan.overage_per_million, currency)} per million requests beyond that`);
  }
  if (plan.limits.runtimes !== null) features.push(`Up to ${formatNumber(plan.limits.runtimes)} runtimes`);
  if (plan.id === 'enterprise') {
    features.push('Monthly fee, included requests and overage per contract');
    features.push('Invoices payable by bank transfer, or charged to a card');
    features.push('Runtime limits to fit your fleet');
  }
  if (plan.id !== 'enterprise' && plan.id !== 'free') features.push('Billed monthly in arrears');
  if (plan.id === 'free') features.push('Deactivated after 30 days without logins or API traffic');
  return features;
}

/** "Visa ending 4242, expires 12/2035". */
export function cardLabel(method: Pick<PaymentMethod, 'brand' | 'last4' | 'exp_month' | 'exp_year'>): string {
  return `${brandName(method.brand)} ending ${method.last4}, expires ${String(method.exp_month).padStart(2, '0')}/${method.exp_year}`;
}

export const findPlan = (catalog: Catalog | undefined, id: PlanId) => catalog?.data.find((plan) => plan.id === id);

/** The requests included per invoice: the contract's for Enterprise, else the catalog's. */
export function includedRequests(subscription: Subscription | null, catalog: Catalog | undefined): number | null {
  if (!subscription) return null;
  const fromTerms = subscription.terms?.included_requests;
  if (typeof fromTerms === 'number') return fromTerms;
  return findPlan(catalog, subscription.plan)?.included_requests ?? null;
}

export const INVOICE_STATUS: Record<InvoiceStatus, { label: string; color: string }> = {
  open: { label: 'Open', color: 'blue' },
  paid: { label: 'Paid', color: 'green' },
  past_due: { label: 'Past due', color: 'orange' },
  uncollectible: { label: 'Uncollectible', color: 'red' },
  void: { label: 'Void', color: 'gray' },
};

/**
 * S + k months, keeping S's time of day, the day clamped to the month's last day and always counted
 * from S (spec 3: Jan 31 → Feb 28 or 29 → Mar 31), in UTC.
 */
export function addMonthsFromAnchor(anchor: Date, months: number): Date {
  const year = anchor.getUTCFullYear();
  const month = anchor.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const result = new Date(anchor.getTime());
  result.setUTCFullYear(year, month, Math.min(anchor.getUTCDate(), lastDay));
  return result;
}

/** The billing period before the current one ([B_(k-2), B_(k-1))), or the month before the first. */
export function previousPeriodStart(subscription: Subscription): Date | null {
  if (!subscription.current_period) return null;
  const anchor = new Date(subscription.started_at);
  const currentStart = new Date(subscription.current_period.start).getTime();
  let k = 0;
  while (addMonthsFromAnchor(anchor, k + 1).getTime() <= currentStart && k < 1200) k++;
  return addMonthsFromAnchor(anchor, k - 1);
}

export const COUNTRY_CODES =
  'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW'.split(
    ' ',
  );
