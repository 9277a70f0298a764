import { Alert, Badge, Button, Card, Divider, Group, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconAlertTriangle } from '@tabler/icons-react';
import { lazy, Suspense, useEffect } from 'react';
import { Link } from 'react-router';
import type { BillingOverview, Catalog, Org } from '../api.ts';
import {
  canManageBilling,
  canSeePaymentMethods,
  findPlan,
  includedRequests,
  PLAN_NAMES,
  planPrice,
} from '../billing.ts';
import { CancelPlanModal } from '../components/CancelPlanModal.tsx';
import { InvoicesCard } from '../components/InvoicesCard.tsx';
import { PaymentMethodsCard } from '../components/PaymentMethodsCard.tsx';
import { ErrorState, PageLoader } from '../components/States.tsx';
import { brandName, formatDate, formatDateTime, formatMoney, formatNumber } from '../format.ts';
import { useBilling, useCatalog, useInvoices, useMember, useNow, useOrg } from '../queries.ts';

// The chart library is most of the pages' code: it loads with the usage card, after the rest.
const UsageCard = lazy(() => import('../components/UsageCard.tsx').then((module) => ({ default: module.UsageCard })));

/** Settings → Billing and Usage: plan details, usage, invoices and payment methods. */
export function BillingPage() {
  const member = useMember()!;
  const orgId = member.org.id;
  const billing = useBilling(orgId);
  const catalog = useCatalog();
  const org = useOrg(orgId);
  const now = useNow();

  useEffect(() => {
    document.title = 'Billing and Usage · Tierline';
  }, []);

  const failed = billing.error ?? catalog.error ?? org.error;
  return (
    <Stack gap="lg">
      <div>
        <Title order={1}>Billing and Usage</Title>
        <Text c="dimmed" size="sm">
          The plan of {member.org.name}, what it costs, and the API requests its runtimes proxy.
        </Text>
      </div>
      {failed ? (
        <ErrorState
          error={failed}
          onRetry={() => {
            void billing.refetch();
            void catalog.refetch();
            void org.refetch();
          }}
        />
      ) : !billing.data || !catalog.data || !org.data ? (
        <PageLoader label="Loading billing" />
      ) : (
        <>
          <PastDueNotice orgId={orgId} canManage={canManageBilling(member.roles)} />
          <PlanDetails
            billing={billing.data}
            catalog={catalog.data}
            org={org.data}
            canManage={canManageBilling(member.roles)}
          />
          <Suspense fallback={<PageLoader label="Loading usage" />}>
            <UsageCard
              orgId={orgId}
              subscription={billing.data.subscription}
              included={includedRequests(billing.data.subscription, catalog.data)}
              now={now}
            />
          </Suspense>
          <InvoicesCard orgId={orgId} />
          {canSeePaymentMethods(member.roles) && (
            <PaymentMethodsCard
              orgId={orgId}
              defaultId={billing.data.subscription?.payment_method_id ?? null}
              canManage={canManageBilling(member.roles)}
            />
          )}
        </>
      )}
    </Stack>
  );
}

/** An invoice whose charge failed: what happens next, and the way to pay it now (a new card is charged at once). */
function PastDueNotice({ orgId, canManage }: { orgId: string; canManage: boolean }) {
  const invoices = useInvoices(orgId, 10).data?.data ?? [];
  const pastDue = invoices.filter((invoice) => invoice.status === 'past_due');
  if (pastDue.length === 0) return null;
  const first = pastDue[0];
  return (
    <Alert color="red" variant="light" icon={<IconAlertTriangle aria-hidden />} title="A payment failed" role="alert">
      <Stack gap="sm" align="flex-start">
        <Text size="sm">
          Invoice {first.number} for {formatMoney(first.total, first.currency)} could not be charged
          {pastDue.length > 1 ? `, nor ${pastDue.length - 1} more` : ''}. It is retried 1, 3 and 7 days after its
          billing date; after the last failed retry the plan moves to Free.{' '}
          {canManage ? 'A new card is charged at once.' : 'Ask an owner or org admin to add a new card.'}
        </Text>
        {canManage && (
          <Button component={Link} to="/settings/billing/payment-methods/new" color="red" size="xs">
            Add a new card
          </Button>
        )}
      </Stack>
    </Alert>
  );
}

function Fact({ label, children, testId }: { label: string; children: React.ReactNode; testId?: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} mb={2}>
        {label}
      </Text>
      <div data-testid={testId}>{children}</div>
    </div>
  );
}

function PlanDetails({
  billing,
  catalog,
  org,
  canManage,
}: {
  billing: BillingOverview;
  catalog: Catalog;
  org: Org;
  canManage: boolean;
}) {
  const [isCancelOpen, cancel] = useDisclosure(false);
  const plan = findPlan(catalog, billing.plan);
  const planName = PLAN_NAMES[billing.plan];
  const upcoming = billing.upcoming;
  const method = billing.payment_method;
  const isPlus = billing.plan === 'plus';
  const fee = billing.subscription?.terms?.monthly_fee;
  const price =
    billing.plan === 'enterprise' && typeof fee === 'number'
      ? `${formatMoney(fee, billing.subscription?.currency ?? catalog.currency)} / month`
      : plan
        ? planPrice(plan, catalog.currency)
        : '';

  return (
    <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby="plan-details-title">
      <Stack gap="lg">
        <Group justify="space-between" align="flex-start" wrap="wrap" gap="sm">
          <div>
            <Title order={2} size="h3" id="plan-details-title">
              Plan Details
            </Title>
            <Text size="sm" c="dimmed">
              {billing.subscription
                ? `Subscribed since ${formatDate(billing.subscription.started_at)}. Billed monthly, in arrears.`
                : 'No subscription: nothing is billed.'}
            </Text>
          </div>
          {canManage && (
            <Group gap="sm">
              <Button component={Link} to="/settings/billing/plans">
                Change Plan
              </Button>
              {isPlus && (
                <Button variant="default" color="red" onClick={cancel.open}>
                  Cancel Plan
                </Button>
              )}
            </Group>
          )}
        </Group>

        <SimpleGrid cols={{ base: 2, md: 4 }} spacing="lg" verticalSpacing="lg">
          <Fact label="Current plan" testId="current-plan">
            <Group gap="xs" align="center">
              <Text size="xl" fw={700}>
                {planName}
              </Text>
              <Badge variant="light" color={billing.plan === 'free' ? 'gray' : 'indigo'}>
                Active
              </Badge>
            </Group>
            <Text size="sm" c="dimmed">
              {price}
            </Text>
          </Fact>
          <Fact label="Next charge" testId="next-charge">
            {upcoming ? (
              <>
                <Text size="lg" fw={600}>
                  {formatDate(upcoming.billing_at)}
                </Text>
                <Text size="sm" c="dimmed">
                  {method ? `To ${brandName(method.brand)} ending ${method.last4}` : 'No card on file'}
                </Text>
              </>
            ) : (
              <Text size="lg" fw={600}>
                None
              </Text>
            )}
          </Fact>
          <Fact label="Charges calculated" testId="calculation-date">
            {upcoming ? (
              <>
                <Text size="lg" fw={600}>
                  {formatDate(upcoming.calculation_at)}
                </Text>
                <Text size="sm" c="dimmed">
                  {formatDateTime(upcoming.calculation_at)}, three days before the charge
                </Text>
              </>
            ) : (
              <Text size="lg" fw={600}>
                —
              </Text>
            )}
          </Fact>
          <Fact label={upcoming?.estimate.final ? 'Next invoice' : 'Estimated next invoice'} testId="estimate">
            {upcoming ? (
              <>
                <Text size="lg" fw={600}>
                  {formatMoney(upcoming.estimate.total, upcoming.estimate.currency)}
                </Text>
                <Text size="sm" c="dimmed">
                  {upcoming.estimate.final ? 'Calculated, charged on the date shown' : 'So far, from usage until now'}
                </Text>
              </>
            ) : (
              <Text size="lg" fw={600}>
                {formatMoney(0, catalog.currency)}
              </Text>
            )}
          </Fact>
        </SimpleGrid>

        {upcoming && upcoming.estimate.lines.length > 0 && (
          <>
            <Divider />
            <Table.ScrollContainer minWidth={420}>
              <Table verticalSpacing={6} aria-label="Next invoice lines">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">Next invoice</Table.Th>
                    <Table.Th scope="col" style={{ textAlign: 'right' }}>
                      Quantity
                    </Table.Th>
                    <Table.Th scope="col" style={{ textAlign: 'right' }}>
                      Amount
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {upcoming.estimate.lines.map((line) => (
                    <Table.Tr key={`${line.kind}-${line.description}`}>
                      <Table.Td>
                        <Text size="sm">{line.description}</Text>
                      </Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>
                        <Text size="sm">{formatNumber(line.quantity)}</Text>
                      </Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>
                        <Text size="sm">{formatMoney(line.amount, upcoming.estimate.currency)}</Text>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </>
        )}

        {billing.plan === 'enterprise' && (
          <Text size="sm" c="dimmed">
            Your contract is managed by our sales team. To change it, use Contact Sales under Change Plan.
          </Text>
        )}
        {!canManage && (
          <Text size="sm" c="dimmed">
            Only the owner and org admins can change the plan.
          </Text>
        )}
      </Stack>
      {isPlus && billing.subscription && (
        <CancelPlanModal
          orgId={org.id}
          opened={isCancelOpen}
          onClose={cancel.close}
          paymentMethod={method}
          planName={planName}
        />
      )}
    </Card>
  );
}
