import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { ApiError } from './api.ts';
import { AppLayout } from './components/AppLayout.tsx';
import { ErrorState, PageLoader } from './components/States.tsx';
import { AcceptInvitationPage } from './pages/AcceptInvitationPage.tsx';
import { AddPaymentMethodPage } from './pages/AddPaymentMethodPage.tsx';
import { BillingPage } from './pages/BillingPage.tsx';
import { ChangePlanPage } from './pages/ChangePlanPage.tsx';
import { ContactSalesPage } from './pages/ContactSalesPage.tsx';
import { LoginPage } from './pages/LoginPage.tsx';
import { NotFoundPage } from './pages/NotFoundPage.tsx';
import { RuntimesPage } from './pages/RuntimesPage.tsx';
import { SignupPage } from './pages/SignupPage.tsx';
import { EmailLocksPage } from './pages/support/EmailLocksPage.tsx';
import { OutboxPage } from './pages/support/OutboxPage.tsx';
import { SalesInquiriesPage } from './pages/support/SalesInquiriesPage.tsx';
import { SupportOrgPage } from './pages/support/SupportOrgPage.tsx';
import { SupportOrgsPage } from './pages/support/SupportOrgsPage.tsx';
import { WebhooksPage } from './pages/support/WebhooksPage.tsx';
import { TeamPage } from './pages/TeamPage.tsx';
import { UpgradePage } from './pages/UpgradePage.tsx';
import { useMe } from './queries.ts';

export const BILLING_PATH = '/settings/billing';

// The chart library loads with the forecast, as it does with the usage card.
const ForecastPage = lazy(() =>
  import('./pages/support/ForecastPage.tsx').then((module) => ({ default: module.ForecastPage })),
);
const WebhookEndpointPage = lazy(() =>
  import('./pages/support/WebhookEndpointPage.tsx').then((module) => ({ default: module.WebhookEndpointPage })),
);

/** The pages: sign-up and login for anyone, the rest behind a session. */
export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/signup" element={<SignupPage />} />
      <Route path="/accept-invitation" element={<AcceptInvitationPage />} />
      <Route element={<RequireSession />}>
        <Route index element={<HomeRedirect />} />
        <Route path="/settings/billing" element={<MemberOnly page={<BillingPage />} />} />
        <Route path="/settings/billing/plans" element={<MemberOnly page={<ChangePlanPage />} />} />
        <Route path="/settings/billing/upgrade" element={<MemberOnly page={<UpgradePage />} />} />
        <Route path="/settings/billing/contact-sales" element={<MemberOnly page={<ContactSalesPage />} />} />
        <Route path="/settings/billing/payment-methods/new" element={<MemberOnly page={<AddPaymentMethodPage />} />} />
        <Route path="/team" element={<MemberOnly page={<TeamPage />} />} />
        <Route path="/runtimes" element={<MemberOnly page={<RuntimesPage />} />} />
        <Route path="/support" element={<StaffOnly page={<SupportOrgsPage />} />} />
        <Route path="/support/orgs/:orgId" element={<StaffOnly page={<SupportOrgPage />} />} />
        <Route
          path="/support/forecast"
          element={
            <StaffOnly
              page={
                <Suspense fallback={<PageLoader label="Loading the forecast" />}>
                  <ForecastPage />
                </Suspense>
              }
            />
          }
        />
        <Route path="/support/email-locks" element={<StaffOnly page={<EmailLocksPage />} />} />
        <Route path="/support/sales-inquiries" element={<StaffOnly page={<SalesInquiriesPage />} />} />
        <Route path="/support/outbox" element={<StaffOnly page={<OutboxPage />} />} />
        <Route path="/support/webhooks" element={<StaffOnly page={<WebhooksPage />} />} />
        <Route
          path="/support/webhooks/:endpointId"
          element={
            <StaffOnly
              page={
                <Suspense fallback={<PageLoader label="Loading the endpoint" />}>
                  <WebhookEndpointPage />
                </Suspense>
              }
            />
          }
        />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}

/** Loads the caller; without a session, sends the person to log in and back here afterwards. */
function RequireSession() {
  const me = useMe();
  const location = useLocation();
  if (me.isPending) return <PageLoader label="Loading your account" />;
  if (me.error) {
    if (me.error instanceof ApiError && me.error.status === 401) {
      const next = `${location.pathname}${location.search}`;
      const hadSession = me.dataUpdatedAt > 0;
      return (
        <Navigate
          to={`/login${next === '/' ? '' : `?next=${encodeURIComponent(next)}`}`}
          replace
          state={{ sessionEnded: hadSession }}
        />
      );
    }
    return <ErrorState error={me.error} onRetry={() => void me.refetch()} fullPage />;
  }
  return <AppLayout />;
}

function HomeRedirect() {
  const me = useMe().data;
  return <Navigate to={me?.kind === 'staff' ? '/support' : BILLING_PATH} replace />;
}

/** The support console is for staff: members go to their org's pages. */
function StaffOnly({ page }: { page: React.ReactNode }) {
  const me = useMe().data;
  if (me?.kind !== 'staff') return <Navigate to={BILLING_PATH} replace />;
  return page;
}

/** Org pages need an org: staff sessions have none, so they go to the support console. */
function MemberOnly({ page }: { page: React.ReactNode }) {
  const me = useMe().data;
  if (me?.kind === 'staff') return <Navigate to="/support" replace />;
  return page;
}
