// The Tierline API as the pages use it: same origin, session cookie, JSON, errors as {error:{code,message}}.

/** An answer other than 2xx, with the API's code and its sentence for a person. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field: string | undefined;

  constructor(status: number, code: string, message: string, field?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Calls the API; throws ApiError for any answer that is not 2xx, and for a network failure. */
export async function api<T>(method: Method, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'Tierline could not be reached. Check your connection and try again.');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? 'unexpected_status',
      error?.message ?? `The server answered ${response.status}. Try again in a moment.`,
      error?.field,
    );
  }
  return parsed as T;
}

export const get = <T>(path: string) => api<T>('GET', path);

export type PlanId = 'free' | 'plus' | 'enterprise';
export type OrgRole = 'owner' | 'org_admin' | 'org_admin_read_only' | 'member';

export interface User {
  id: string;
  email: string;
  full_name: string;
}

export interface Org {
  id: string;
  name: string;
  email: string;
  owner_user_id?: string;
  status: 'active' | 'deactivated';
  plan: PlanId;
  created_at: string;
  last_login_at: string | null;
  deactivated_at: string | null;
  deactivation_reason?: string | null;
  projected_deactivation_at: string | null;
}

export interface OrgSummary {
  id: string;
  name: string;
  status: 'active' | 'deactivated';
  plan: PlanId;
}

/** GET /v1/me: a member of an org, or staff (no org). */
export type StaffRole = 'support' | 'sales' | 'admin';

export type Me =
  | { kind: 'member'; user: User; org: Org; roles: OrgRole[]; orgs: OrgSummary[] }
  | { kind: 'staff'; user: User; staff_roles: StaffRole[] };

export async function getMe(): Promise<Me> {
  const me = await get<Record<string, unknown>>('/v1/me');
  if ('staff_roles' in me) return { kind: 'staff', ...(me as { user: User; staff_roles: StaffRole[] }) };
  return { kind: 'member', ...(me as { user: User; org: Org; roles: OrgRole[]; orgs: OrgSummary[] }) };
}

export interface Plan {
  id: PlanId;
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
  data: Plan[];
}

export interface Line {
  kind: 'plan_fee' | 'usage';
  description: string;
  quantity: number;
  amount: number;
}

export interface Period {
  start: string;
  end: string;
}

export interface Subscription {
  id: string;
  plan: PlanId;
  status: 'active' | 'ended';
  started_at: string;
  ended_at: string | null;
  payment_method_id: string | null;
  currency: string;
  terms: {
    included_requests?: number | null;
    monthly_fee?: number | null;
    overage_per_million?: number | null;
    net_days?: number | null;
  } | null;
  current_period: Period | null;
  next_calculation_at: string | null;
  next_billing_at: string | null;
}

export interface PaymentMethod {
  id: string;
  brand: string;
  last4: string;
  exp_month: number;
  exp_year: number;
  billing_details: {
    name: string;
    email: string;
    address: { line1: string; city: string; postal_code: string; country: string };
  };
  created_at: string;
}

export interface BillingOverview {
  plan: PlanId;
  subscription: Subscription | null;
  upcoming: {
    calculation_at: string;
    billing_at: string;
    estimate: { currency: string; lines: Line[]; total: number; final: boolean };
  } | null;
  payment_method: PaymentMethod | null;
}

export type InvoiceStatus = 'open' | 'paid' | 'past_due' | 'uncollectible' | 'void';

export interface Invoice {
  id: string;
  number: string;
  kind: 'cycle' | 'final';
  status: InvoiceStatus;
  currency: string;
  collection?: 'charge_automatically' | 'send_invoice' | string;
  period: Period;
  billing_at: string;
  due_at?: string;
  paid_at: string | null;
  lines: Line[];
  total: number;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface DowngradePreview {
  invoice: { currency: string; period: Period; lines: Line[]; total: number } | null;
  voids_invoice_id: string | null;
  effective_at: string;
}

export interface Usage {
  start: string;
  end: string;
  total: number;
  series: { start: string; requests: number }[];
}

/** A member with individual, team-inherited and effective roles (roles add up; the widest wins). */
export interface Member {
  user_id: string;
  email: string;
  full_name: string;
  joined_at: string;
  roles: OrgRole[];
  team_roles: OrgRole[];
  effective_roles: OrgRole[];
  teams: { id: string; name: string }[];
}

export type GrantableRole = Exclude<OrgRole, 'owner'>;

export interface Team {
  id: string;
  org_id: string;
  name: string;
  roles: GrantableRole[];
  members: { user_id: string; email: string; full_name: string }[];
  created_at: string;
}

export type InvitationStatus = 'pending' | 'accepted' | 'expired' | 'revoked';

export interface Invitation {
  id: string;
  org_id: string;
  email: string;
  roles: GrantableRole[];
  status: InvitationStatus;
  invited_by: string;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
}

export type RuntimeState = 'never_connected' | 'connected' | 'disconnected' | 'decommissioned';

export interface Runtime {
  id: string;
  org_id: string;
  control_plane_id: string;
  name: string;
  token_prefix: string;
  created_at: string;
  last_seen_at: string | null;
  state: RuntimeState;
}

export interface RouteConfig {
  path_prefix: string;
  upstream_url: string;
  service: string;
}

export interface ControlPlane {
  id: string;
  org_id: string;
  status: 'active' | 'decommissioned';
  created_at: string;
  decommissioned_at: string | null;
  version: number;
  config: { routes: RouteConfig[] };
}

export interface AuditEvent {
  id: string;
  org_id: string;
  actor: { type: string; id: string | null };
  action: string;
  target: { type: string; id: string | null };
  before: unknown;
  after: unknown;
  reason: string | null;
  created_at: string;
}

/** A card as staff see it on an org: enough to tell the cards apart and pick one. */
export type StaffPaymentMethod = Pick<
  PaymentMethod,
  'id' | 'brand' | 'last4' | 'exp_month' | 'exp_year' | 'billing_details'
>;

/** GET /v1/admin/orgs/{org_id}: what support sees of an org. */
export interface StaffOrgDetail {
  org: Org & { last_request_at: string | null };
  control_plane: { id: string; status: 'active' | 'decommissioned'; decommissioned_at: string | null } | null;
  /** The active subscription; null on Free. */
  subscription: Subscription | null;
  payment_methods: StaffPaymentMethod[];
  /** The locks this org's deactivation put on its email that are still in place. */
  email_locks: { email: string; reason: string; created_at: string }[];
  members: Member[];
  runtimes: Runtime[];
  invoices: Invoice[];
  audit_events: AuditEvent[];
}

export interface EmailLock {
  id: string;
  email: string;
  org_id: string;
  /** The locking org's name; null when the org is gone. */
  org_name: string | null;
  reason: string;
  created_at: string;
}

export interface SalesInquiry {
  id: string;
  org_id: string;
  name: string;
  email: string;
  company: string;
  message: string;
  created_at: string;
}

export interface OutboxEmail {
  id: string;
  to: string;
  subject: string;
  kind: string;
  body: string;
  org_id: string | null;
  created_at: string;
  sent_at: string | null;
  /** queued (not sent yet, or waiting to be tried again), sent, or failed (refused for good). */
  status: 'queued' | 'sent' | 'failed';
  attempts: number;
  last_error: string | null;
}

export interface Forecast extends Page<Org & { deactivates_at: string }> {
  as_of: string;
  until: string;
}

/** GET /v1/admin/lifecycle/forecast/daily: orgs reaching their deactivation per UTC day (days with none left out). */
export interface DailyForecast {
  as_of: string;
  until: string;
  days: { day: string; count: number }[];
}

/** A webhook endpoint (admin staff); `secret` only in the answers to creating it and rotating its secret. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string | null;
  /** Event types it receives; ["*"] is every type, also types added later. */
  events: string[];
  enabled: boolean;
  created_at: string;
  updated_at: string;
  secret?: string;
  previous_secret_expires_at?: string | null;
}

/** What PATCH /v1/admin/webhook-endpoints/{endpoint_id} changes; a field left out stays as it is. */
export interface WebhookEndpointChanges {
  url?: string;
  /** An empty string clears it. */
  description?: string;
  events?: string[];
  enabled?: boolean;
}

/** Changes an endpoint (admin); answers it as it is now, without its secret. */
export const updateWebhookEndpoint = (endpointId: string, changes: WebhookEndpointChanges) =>
  api<WebhookEndpoint>('PATCH', `/v1/admin/webhook-endpoints/${encodeURIComponent(endpointId)}`, changes);

/** Deletes an endpoint (admin) with its deliveries and their log: deliveries not yet made are never sent. */
export const deleteWebhookEndpoint = (endpointId: string) =>
  api<void>('DELETE', `/v1/admin/webhook-endpoints/${encodeURIComponent(endpointId)}`);

export interface WebhookEventType {
  type: string;
  description: string;
}

export type WebhookDeliveryStatus = 'pending' | 'sending' | 'succeeded' | 'failed';

/** One event to one endpoint, as the delivery log lists it. */
export interface WebhookDelivery {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  org_id: string | null;
  status: WebhookDeliveryStatus;
  attempt_count: number;
  last_attempt_at: string | null;
  last_response_status: number | null;
  last_error: string | null;
  /** When a pending delivery is tried next; null otherwise. */
  next_attempt_at: string | null;
  retry_until: string;
  succeeded_at: string | null;
  created_at: string;
}

export interface WebhookAttempt {
  id: string;
  attempt: number;
  started_at: string;
  duration_ms: number;
  succeeded: boolean;
  response_status: number | null;
  response_body: string | null;
  error: string | null;
}

/** GET /v1/admin/webhook-deliveries/{delivery_id}: the delivery with its event and every attempt. */
export interface WebhookDeliveryDetail extends WebhookDelivery {
  event: unknown;
  attempts: WebhookAttempt[];
}

/** GET …/deliveries/daily: deliveries per UTC day of their event, by status now (days with none left out). */
export interface WebhookDailyDeliveries {
  as_of: string;
  since: string;
  days: ({ day: string } & Record<WebhookDeliveryStatus, number>)[];
}

export interface TestClock {
  now: string;
  next_due_at: string | null;
}

/** GET /v1/test-clock: the simulated time, or null when the server runs on the real clock (404). */
export async function findTestClock(): Promise<TestClock | null> {
  try {
    return await get<TestClock>('/v1/test-clock');
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

export const orgPath = (orgId: string, rest = '') => `/v1/orgs/${encodeURIComponent(orgId)}${rest}`;

/** The API's message when its refusal names this field (or one of these codes), for showing at the field. */
export function fieldError(error: unknown, field: string, codes: readonly string[] = []): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  if (error.field === field || codes.includes(error.code)) return error.message;
  return undefined;
}
