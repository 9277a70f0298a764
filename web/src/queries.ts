import { keepPreviousData, useQuery } from '@tanstack/react-query';
import {
  type BillingOverview,
  type Catalog,
  findTestClock,
  get,
  getMe,
  type Invoice,
  type Me,
  type Org,
  orgPath,
  type Page,
  type PaymentMethod,
  type Usage,
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
