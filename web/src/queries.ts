import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import {
  type BillingOverview,
  type Catalog,
  type ControlPlane,
  findTestClock,
  get,
  getMe,
  type Invitation,
  type Invoice,
  type Me,
  type Member,
  type Org,
  orgPath,
  type Page,
  type PaymentMethod,
  type Runtime,
  type StaffOrgDetail,
  type Team,
  type Usage,
  type WebhookDailyDeliveries,
  type WebhookDelivery,
  type WebhookDeliveryDetail,
  type WebhookDeliveryStatus,
  type WebhookEndpoint,
  type WebhookEventType,
} from './api.ts';

// Every read the pages make, keyed so that one invalidation (after a plan change or a clock advance)
// refreshes what is on screen.

export const useMe = () => useQuery({ queryKey: ['me'], queryFn: getMe, retry: false, staleTime: 30_000 });

/** The member's view of the session; the layout only renders member pages for members. */
export function useMember(): Extract<Me, { kind: 'member' }> | undefined {
  const me = useMe().data;
  return me?.kind === 'member' ? me : undefined;
}

export const useTestClock = () =>
  useQuery({ queryKey: ['test-clock'], queryFn: findTestClock, staleTime: Number.POSITIVE_INFINITY });

/** The server's "now": the simulated time with the test clock on, else the real time. */
export function useNow(): Date {
  const clock = useTestClock().data;
  return clock ? new Date(clock.now) : new Date();
}

export const useCatalog = () =>
  useQuery({ queryKey: ['plans'], queryFn: () => get<Catalog>('/v1/plans'), staleTime: 5 * 60_000 });

export const useOrg = (orgId: string) =>
  useQuery({ queryKey: ['org', orgId], queryFn: () => get<Org>(orgPath(orgId)) });

export const useBilling = (orgId: string) =>
  useQuery({ queryKey: ['org', orgId, 'billing'], queryFn: () => get<BillingOverview>(orgPath(orgId, '/billing')) });

export const usePaymentMethods = (orgId: string, enabled: boolean) =>
  useQuery({
    queryKey: ['org', orgId, 'payment-methods'],
    queryFn: () => get<Page<PaymentMethod>>(orgPath(orgId, '/payment-methods')),
    enabled,
  });

export const useInvoices = (orgId: string, limit: number) =>
  useQuery({
    queryKey: ['org', orgId, 'invoices', limit],
    queryFn: () => get<Page<Invoice>>(orgPath(orgId, `/invoices?limit=${limit}`)),
    placeholderData: keepPreviousData,
  });

export const useUsage = (orgId: string, range: { start: string; end: string } | undefined) =>
  useQuery({
    queryKey: ['org', orgId, 'usage', range?.start, range?.end],
    queryFn: () => {
      const query = new URLSearchParams({ start: range!.start, end: range!.end, granularity: 'day' });
      return get<Usage>(orgPath(orgId, `/usage?${query}`));
    },
    enabled: range !== undefined,
    placeholderData: keepPreviousData,
  });

export const useMembers = (orgId: string, enabled = true) =>
  useQuery({
    queryKey: ['org', orgId, 'members'],
    queryFn: () => get<Page<Member>>(orgPath(orgId, '/members')),
    enabled,
  });

export const useTeams = (orgId: string, enabled = true) =>
  useQuery({ queryKey: ['org', orgId, 'teams'], queryFn: () => get<Page<Team>>(orgPath(orgId, '/teams')), enabled });

export const useInvitations = (orgId: string, enabled = true) =>
  useQuery({
    queryKey: ['org', orgId, 'invitations'],
    queryFn: () => get<Page<Invitation>>(orgPath(orgId, '/invitations')),
    enabled,
  });

/** The org's runtimes; their state moves with time, so the list refreshes itself every half minute. */
export const useRuntimes = (orgId: string, enabled = true) =>
  useQuery({
    queryKey: ['org', orgId, 'runtimes'],
    queryFn: () => get<Page<Runtime>>(orgPath(orgId, '/runtimes')),
    enabled,
    refetchInterval: 30_000,
  });

export const useControlPlane = (orgId: string, enabled = true) =>
  useQuery({
    queryKey: ['org', orgId, 'control-plane'],
    queryFn: () => get<ControlPlane>(orgPath(orgId, '/control-plane')),
    enabled,
  });

export const useStaffOrg = (orgId: string) =>
  useQuery({
    queryKey: ['admin', 'org', orgId],
    queryFn: () => get<StaffOrgDetail>(`/v1/admin/orgs/${encodeURIComponent(orgId)}`),
  });

/** The staff member's view of the session; the console only renders for staff. */
export function useStaff(): Extract<Me, { kind: 'staff' }> | undefined {
  const me = useMe().data;
  return me?.kind === 'staff' ? me : undefined;
}

/** A staff list (orgs, email locks, inquiries, outbox), page by page with its cursor. */
export function useStaffList<T>(key: readonly unknown[], path: string, params: Record<string, string> = {}) {
  return useInfiniteQuery({
    queryKey: ['admin', ...key, params],
    queryFn: ({ pageParam }) => {
      const query = new URLSearchParams({ ...params, limit: '20', ...(pageParam ? { cursor: pageParam } : {}) });
      return get<Page<T>>(`${path}?${query}`);
    },
    initialPageParam: '',
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}

const webhookPath = (endpointId: string, rest = '') =>
  `/v1/admin/webhook-endpoints/${encodeURIComponent(endpointId)}${rest}`;

/** Whether a delivery may change by itself soon: being sent, or due within a minute of `now`. */
function isSettlingSoon(delivery: WebhookDelivery, now: Date): boolean {
  if (delivery.status === 'sending') return true;
  return (
    delivery.status === 'pending' &&
    delivery.next_attempt_at !== null &&
    new Date(delivery.next_attempt_at).getTime() <= now.getTime() + 60_000
  );
}

/** How often to look again while the dispatcher may be working on what is shown (it runs every minute). */
const SETTLING_REFRESH_MS = 5_000;

export const useWebhookEndpoint = (endpointId: string) =>
  useQuery({
    queryKey: ['admin', 'webhook-endpoint', endpointId],
    queryFn: () => get<WebhookEndpoint>(webhookPath(endpointId)),
  });

/** The event types endpoints subscribe to, with what each means (admin staff). */
export const useWebhookEventTypes = (enabled = true) =>
  useQuery({
    queryKey: ['admin', 'webhook-event-types'],
    queryFn: () => get<{ data: WebhookEventType[] }>('/v1/admin/webhook-event-types'),
    staleTime: 5 * 60_000,
    enabled,
  });

/** An endpoint's delivery log, newest event first, page by page; refreshed while a delivery is about to settle. */
export function useWebhookDeliveries(endpointId: string, status: WebhookDeliveryStatus | undefined, now: Date) {
  return useInfiniteQuery({
    queryKey: ['admin', 'webhook-deliveries', endpointId, status ?? 'all'],
    queryFn: ({ pageParam }) => {
      const query = new URLSearchParams({
        limit: '20',
        ...(status ? { status } : {}),
        ...(pageParam ? { cursor: pageParam } : {}),
      });
      return get<Page<WebhookDelivery>>(webhookPath(endpointId, `/deliveries?${query}`));
    },
    initialPageParam: '',
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: (query) =>
      query.state.data?.pages.some((page) => page.data.some((delivery) => isSettlingSoon(delivery, now)))
        ? SETTLING_REFRESH_MS
        : false,
  });
}

/** One delivery with its event and every attempt. */
export const useWebhookDelivery = (deliveryId: string, now: Date) =>
  useQuery({
    queryKey: ['admin', 'webhook-delivery', deliveryId],
    queryFn: () => get<WebhookDeliveryDetail>(`/v1/admin/webhook-deliveries/${encodeURIComponent(deliveryId)}`),
    refetchInterval: (query) =>
      query.state.data && isSettlingSoon(query.state.data, now) ? SETTLING_REFRESH_MS : false,
  });

/** An endpoint's deliveries per UTC day over the last `days` days, by status. */
export const useWebhookDailyDeliveries = (endpointId: string, days: number) =>
  useQuery({
    queryKey: ['admin', 'webhook-deliveries-daily', endpointId, days],
    queryFn: () => get<WebhookDailyDeliveries>(webhookPath(endpointId, `/deliveries/daily?days=${days}`)),
    placeholderData: keepPreviousData,
  });
