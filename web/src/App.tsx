import { Navigate, Route, Routes, useLocation } from 'react-router';
import { ApiError } from './api.ts';
import { AppLayout } from './components/AppLayout.tsx';
import { ErrorState, PageLoader } from './components/States.tsx';
import { AddPaymentMethodPage } from './pages/AddPaymentMethodPage.tsx';
import { BillingPage } from './pages/BillingPage.tsx';
import { ChangePlanPage } from './pages/ChangePlanPage.tsx';
import { ComingSoonPage } from './pages/ComingSoonPage.tsx';
import { ContactSalesPage } from './pages/ContactSalesPage.tsx';
import { LoginPage } from './pages/LoginPage.tsx';
import { NotFoundPage } from './pages/NotFoundPage.tsx';
import { SignupPage } from './pages/SignupPage.tsx';
import { UpgradePage } from './pages/UpgradePage.tsx';
import { useMe } from './queries.ts';

export const BILLING_PATH = '/settings/billing';

/** The pages: sign-up and login for anyone, the rest behind a session. */
export function App() {
  return (
    <Routes>
      <Route path="/login" element={<LoginPage />} />
      <Route path="/signup" element={<SignupPage />} />
      <Route element={<RequireSession />}>
        <Route index element={<HomeRedirect />} />
        <Route path="/settings/billing" element={<MemberOnly page={<BillingPage />} />} />
        <Route path="/settings/billing/plans" element={<MemberOnly page={<ChangePlanPage />} />} />
        <Route path="/settings/billing/upgrade" element={<MemberOnly page={<UpgradePage />} />} />
        <Route path="/settings/billing/contact-sales" element={<MemberOnly page={<ContactSalesPage />} />} />
        <Route path="/settings/billing/payment-methods/new" element={<MemberOnly page={<AddPaymentMethodPage />} />} />
        <Route
          path="/team"
          element={
            <MemberOnly
              page={
                <ComingSoonPage title="Team" text="Members, their roles, teams and invitations will be managed here." />
              }
            />
          }
        />
        <Route
          path="/runtimes"
          element={
            <MemberOnly
              page={
                <ComingSoonPage
                  title="Runtimes"
                  text="Your gateway runtimes, their tokens and their connection state will be listed here."
                />
              }
            />
          }
        />
        <Route
          path="/support"
          element={
            <ComingSoonPage
              title="Support console"
              text="Staff will search organizations, deactivate and reactivate them, and unlock emails here."
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

/** Org pages need an org: staff sessions have none, so they go to the support console. */
function MemberOnly({ page }: { page: React.ReactNode }) {
  const me = useMe().data;
  if (me?.kind === 'staff') return <Navigate to="/support" replace />;
  return page;
}
