import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  Group,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconBan, IconCreditCard, IconLock, IconLockOpen, IconRefresh } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useEffect, useState } from 'react';
import { useParams } from 'react-router';
import { hasStaffRole } from '../../access.ts';
import { type AuditEvent, api, type Invoice, type StaffOrgDetail } from '../../api.ts';
import { cardLabel, INVOICE_STATUS, PLAN_NAMES } from '../../billing.ts';
import { BackLink } from '../../components/BackLink.tsx';
import { ConfirmModal } from '../../components/ConfirmModal.tsx';
import { RoleBadges } from '../../components/RoleBadges.tsx';
import { PageLoader } from '../../components/States.tsx';
import { DeactivateModal } from '../../components/support/DeactivateModal.tsx';
import { DetailLoadError } from '../../components/support/DetailLoadError.tsx';
import { OrgStatusBadge, PlanBadge } from '../../components/support/OrgBadges.tsx';
import { ReactivateModal } from '../../components/support/ReactivateModal.tsx';
import { SetPlanModal } from '../../components/support/SetPlanModal.tsx';
import { UnlockEmailModal } from '../../components/support/UnlockEmailModal.tsx';
import { When } from '../../components/When.tsx';
import { formatDate, formatDateTime, formatMoney, formatNumber, formatPeriod } from '../../format.ts';
import { useNow, useStaff, useStaffOrg } from '../../queries.ts';
import { actionLabel, actorLabel, reasonLabel } from '../../support.ts';
import { RuntimeStateBadge } from '../RuntimesPage.tsx';

type Dialog = 'deactivate' | 'reactivate' | 'plan' | null;

/**
 * Support console → one organization: status, plan, activity, subscription, email lock, people, runtimes,
 * invoices, audit trail, actions.
 */
export function SupportOrgPage() {
  const { orgId = '' } = useParams();
  const staff = useStaff()!;
  const detail = useStaffOrg(orgId);
  const [dialog, setDialog] = useState<Dialog>(null);
  const name = detail.data?.org.name;

  useEffect(() => {
    document.title = `${name ?? 'Organization'} · Support console · Tierline`;
  }, [name]);

  if (detail.error) {
    return (
      <DetailLoadError
        error={detail.error}
        back="/support"
        backLabel="Organizations"
        missingTitle="There is no organization with this id"
        onRetry={() => void detail.refetch()}
      />
    );
  }
  if (!detail.data) return <PageLoader label="Loading the organization" />;

  const { org } = detail.data;
  const isSupport = hasStaffRole(staff.staff_roles, 'support');
  const isSales = hasStaffRole(staff.staff_roles, 'sales');
  const isActive = org.status === 'active';

  return (
    <Stack gap="lg">
      <BackLink to="/support">Organizations</BackLink>
      <Group justify="space-between" align="flex-start" gap="md">
        <Stack gap={6} style={{ flex: '1 1 360px', minWidth: 0 }}>
          <Title order={1} style={{ overflowWrap: 'anywhere' }}>
            {org.name}
          </Title>
          <Group gap="xs">
            <OrgStatusBadge status={org.status} />
            <PlanBadge plan={org.plan} />
            <Text size="sm" c="dimmed">
              {org.email}
            </Text>
          </Group>
          <Text size="xs" c="dimmed" ff="monospace">
            {org.id}
          </Text>
        </Stack>
        <Group gap="sm">
          {isSales && isActive && (
            <Button
              variant="default"
              leftSection={<IconCreditCard size={16} aria-hidden />}
              onClick={() => setDialog('plan')}
            >
              Set plan
            </Button>
          )}
          {isSupport && isActive && (
            <Button color="red" leftSection={<IconBan size={16} aria-hidden />} onClick={() => setDialog('deactivate')}>
              Deactivate
            </Button>
          )}
          {isSupport && !isActive && (
            <Button leftSection={<IconRefresh size={16} aria-hidden />} onClick={() => setDialog('reactivate')}>
              Reactivate
            </Button>
          )}
        </Group>
      </Group>

      {!isActive && (
        <Alert
          color="red"
          variant="light"
          icon={<IconLock aria-hidden />}
          title="Deactivated"
          data-testid="deactivated"
        >
          <Stack gap="xs">
            <Text size="sm">
              Since {org.deactivated_at ? formatDateTime(org.deactivated_at) : 'an unknown time'}. Reason:{' '}
              {reasonLabel(org.deactivation_reason)}. Nobody can log in to it.
            </Text>
            <EmailLockState detail={detail.data} canUnlock={isSupport} />
          </Stack>
        </Alert>
      )}
      {isActive && detail.data.email_locks.length > 0 && (
        <Alert color="orange" variant="light" icon={<IconLock aria-hidden />} title="Email locked">
          <EmailLockState detail={detail.data} canUnlock={isSupport} />
        </Alert>
      )}

      <Activity detail={detail.data} />
      <SubscriptionSection detail={detail.data} />
      <Members detail={detail.data} />
      <Runtimes detail={detail.data} />
      <Invoices detail={detail.data} canMarkPaid={isSupport} />
      <AuditTrail detail={detail.data} />

      {dialog === 'deactivate' && <DeactivateModal detail={detail.data} onClose={() => setDialog(null)} />}
      {dialog === 'reactivate' && <ReactivateModal detail={detail.data} onClose={() => setDialog(null)} />}
      {dialog === 'plan' && <SetPlanModal detail={detail.data} onClose={() => setDialog(null)} />}
    </Stack>
  );
}

function Section({
  title,
  id,
  children,
  aside,
}: {
  title: string;
  id: string;
  children: ReactNode;
  aside?: ReactNode;
}) {
  return (
    <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby={id}>
      <Stack gap="md">
        <Group justify="space-between" align="baseline">
          <Title order={2} size="h3" id={id}>
            {title}
          </Title>
          {aside}
        </Group>
        {children}
      </Stack>
    </Card>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} mb={2}>
        {label}
      </Text>
      {children}
    </div>
  );
}

function Activity({ detail }: { detail: StaffOrgDetail }) {
  const now = useNow();
  const { org, control_plane: controlPlane } = detail;
  return (
    <Section title="Activity" id="activity-title">
      <SimpleGrid cols={{ base: 1, xs: 2, md: 5 }} spacing="lg">
        <Fact label="Created">
          <Text size="sm">{formatDate(org.created_at)}</Text>
        </Fact>
        <Fact label="Last login">
          <When iso={org.last_login_at} now={now} />
        </Fact>
        <Fact label="Last API request">
          <When iso={org.last_request_at} now={now} never="None yet" />
        </Fact>
        <Fact label="Inactivity deactivation">
          {org.status !== 'active' ? (
            <Text size="sm" c="dimmed">
              Not applicable
            </Text>
          ) : org.projected_deactivation_at ? (
            <When iso={org.projected_deactivation_at} now={now} />
          ) : (
            <Text size="sm" c="dimmed">
              {org.plan === 'free' ? 'Not scheduled' : `Exempt on ${PLAN_NAMES[org.plan]}`}
            </Text>
          )}
        </Fact>
        <Fact label="Control plane">
          {controlPlane ? (
            <>
              <Badge color={controlPlane.status === 'active' ? 'green' : 'red'} variant="dot" tt="none">
                {controlPlane.status === 'active' ? 'Active' : 'Decommissioned'}
              </Badge>
              <Text size="xs" c="dimmed" ff="monospace" mt={2}>
                {controlPlane.id}
              </Text>
            </>
          ) : (
            <Text size="sm" c="dimmed">
              None
            </Text>
          )}
        </Fact>
      </SimpleGrid>
    </Section>
  );
}

/**
 * Whether the email this org's deactivation locked is still locked (the API lists the locks still in
 * place), with Unlock for support.
 */
function EmailLockState({ detail, canUnlock }: { detail: StaffOrgDetail; canUnlock: boolean }) {
  const [unlocking, setUnlocking] = useState<string | null>(null);
  const locks = detail.email_locks.filter(
    (lock, index, all) => all.findIndex((other) => other.email === lock.email) === index,
  );
  if (locks.length === 0) {
    return (
      <Text size="sm" data-testid="email-lock">
        Its email {detail.org.email} is not locked any more: it can sign up and create organizations again.
      </Text>
    );
  }
  return (
    <Stack gap="xs" data-testid="email-lock">
      {locks.map((lock) => (
        <Group key={lock.email} gap="sm" justify="space-between" wrap="wrap">
          <Text size="sm" style={{ flex: '1 1 280px', overflowWrap: 'anywhere' }}>
            Its email <strong>{lock.email}</strong> is still locked (since {formatDate(lock.created_at)}): it cannot
            sign up or create an organization.
          </Text>
          {canUnlock && (
            <Button
              size="xs"
              variant="default"
              leftSection={<IconLockOpen size={14} aria-hidden />}
              onClick={() => setUnlocking(lock.email)}
              aria-label={`Unlock ${lock.email}`}
            >
              Unlock
            </Button>
          )}
        </Group>
      ))}
      {unlocking && <UnlockEmailModal email={unlocking} onClose={() => setUnlocking(null)} />}
    </Stack>
  );
}

/** The active subscription: plan, period, next billing, what it charges and on which terms; the cards on file. */
function SubscriptionSection({ detail }: { detail: StaffOrgDetail }) {
  const { subscription, payment_methods: methods } = detail;
  const terms = subscription?.terms;
  const netDays = terms?.net_days ?? 0;
  const charged = subscription?.payment_method_id
    ? methods.find((method) => method.id === subscription.payment_method_id)
    : undefined;
  return (
    <Section title="Subscription" id="staff-subscription-title">
      {!subscription ? (
        <Text size="sm" c="dimmed">
          {detail.org.status === 'active'
            ? 'None: the organization is on Free and nothing is billed.'
            : 'None: a deactivated organization has no subscription.'}
        </Text>
      ) : (
        <SimpleGrid cols={{ base: 1, xs: 2, md: 4 }} spacing="lg" data-testid="staff-subscription">
          <Fact label="Plan">
            <Text size="sm" fw={600}>
              {PLAN_NAMES[subscription.plan]}
            </Text>
            <Text size="xs" c="dimmed">
              Since {formatDate(subscription.started_at)}
            </Text>
          </Fact>
          <Fact label="Current period">
            <Text size="sm">
              {subscription.current_period
                ? formatPeriod(subscription.current_period.start, subscription.current_period.end)
                : '—'}
            </Text>
            {subscription.next_billing_at && (
              <Text size="xs" c="dimmed">
                Next billing {formatDate(subscription.next_billing_at)}
              </Text>
            )}
          </Fact>
          <Fact label="Terms">
            {terms && typeof terms.monthly_fee === 'number' ? (
              <>
                <Text size="sm">{formatMoney(terms.monthly_fee, subscription.currency)} a month</Text>
                <Text size="xs" c="dimmed">
                  {typeof terms.included_requests === 'number'
                    ? `${formatNumber(terms.included_requests)} requests included`
                    : ''}
                  {typeof terms.overage_per_million === 'number'
                    ? `, then ${formatMoney(terms.overage_per_million, subscription.currency)} per million`
                    : ''}
                </Text>
              </>
            ) : (
              <Text size="sm" c="dimmed">
                Catalog prices
              </Text>
            )}
          </Fact>
          <Fact label="Paid by">
            {netDays > 0 ? (
              <>
                <Text size="sm">Bank transfer</Text>
                <Text size="xs" c="dimmed">
                  Due {netDays} days after each billing date
                </Text>
              </>
            ) : charged ? (
              <Text size="sm">{cardLabel(charged)}</Text>
            ) : (
              <Text size="sm" c="dimmed">
                {subscription.payment_method_id ? (
                  <Code fz="xs">{subscription.payment_method_id}</Code>
                ) : (
                  'No card on the subscription'
                )}
              </Text>
            )}
          </Fact>
        </SimpleGrid>
      )}
      <div>
        <Text size="xs" c="dimmed" tt="uppercase" fw={600} mb={4}>
          Cards on file
        </Text>
        {methods.length === 0 ? (
          <Text size="sm" c="dimmed">
            None.
          </Text>
        ) : (
          <Stack gap={4}>
            {methods.map((method) => (
              <Group key={method.id} gap="xs" wrap="wrap">
                <IconCreditCard size={16} stroke={1.5} aria-hidden />
                <Text size="sm">{cardLabel(method)}</Text>
                <Text size="xs" c="dimmed">
                  {method.billing_details.name}
                </Text>
                {method.id === subscription?.payment_method_id && (
                  <Badge size="sm" variant="light" color="indigo">
                    Charged
                  </Badge>
                )}
              </Group>
            ))}
          </Stack>
        )}
      </div>
    </Section>
  );
}

function Members({ detail }: { detail: StaffOrgDetail }) {
  const isActive = detail.org.status === 'active';
  return (
    <Section
      title="Members"
      id="staff-members-title"
      aside={
        <Text size="sm" c="dimmed">
          {detail.members.length}
        </Text>
      }
    >
      <Table.ScrollContainer minWidth={560}>
        <Table verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Member</Table.Th>
              <Table.Th scope="col">Roles</Table.Th>
              <Table.Th scope="col">Teams</Table.Th>
              <Table.Th scope="col">Joined</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {detail.members.map((member) => (
              <Table.Tr key={member.user_id}>
                <Table.Td>
                  <Text size="sm" fw={600}>
                    {member.full_name}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {member.email}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <RoleBadges
                    roles={member.effective_roles}
                    empty={isActive ? 'No roles' : 'None (removed at deactivation)'}
                  />
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{member.teams.map((team) => team.name).join(', ') || '—'}</Text>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{formatDate(member.joined_at)}</Text>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Section>
  );
}

function Runtimes({ detail }: { detail: StaffOrgDetail }) {
  const now = useNow();
  return (
    <Section title="Runtimes" id="staff-runtimes-title">
      {detail.runtimes.length === 0 ? (
        <Text size="sm" c="dimmed">
          No runtimes registered.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={560}>
          <Table verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Runtime</Table.Th>
                <Table.Th scope="col">State</Table.Th>
                <Table.Th scope="col">Last seen</Table.Th>
                <Table.Th scope="col">Registered</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {detail.runtimes.map((runtime) => (
                <Table.Tr key={runtime.id}>
                  <Table.Td>
                    <Text size="sm" fw={600}>
                      {runtime.name}
                    </Text>
                    <Text size="xs" c="dimmed" ff="monospace">
                      {runtime.id}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <RuntimeStateBadge state={runtime.state} />
                  </Table.Td>
                  <Table.Td>
                    <When iso={runtime.last_seen_at} now={now} />
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{formatDate(runtime.created_at)}</Text>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Section>
  );
}

function Invoices({ detail, canMarkPaid }: { detail: StaffOrgDetail; canMarkPaid: boolean }) {
  const [marking, setMarking] = useState<Invoice | null>(null);
  return (
    <Section title="Invoices" id="staff-invoices-title">
      {detail.invoices.length === 0 ? (
        <Text size="sm" c="dimmed">
          No invoices.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={720}>
          <Table verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">Invoice</Table.Th>
                <Table.Th scope="col">Status</Table.Th>
                <Table.Th scope="col">Period</Table.Th>
                <Table.Th scope="col">Billing date</Table.Th>
                <Table.Th scope="col" style={{ textAlign: 'right' }}>
                  Total
                </Table.Th>
                {canMarkPaid && (
                  <Table.Th scope="col">
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                )}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {detail.invoices.map((invoice) => {
                const isTransfer = invoice.collection === 'send_invoice';
                return (
                  <Table.Tr key={invoice.id}>
                    <Table.Td>
                      <Text size="sm" fw={600} ff="monospace">
                        {invoice.number}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {invoice.kind === 'final' ? 'Final invoice' : 'Monthly'}
                        {isTransfer && invoice.due_at ? ` · by transfer, due ${formatDate(invoice.due_at)}` : ''}
                      </Text>
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>
                      <Badge color={INVOICE_STATUS[invoice.status].color} variant="dot" tt="none">
                        {INVOICE_STATUS[invoice.status].label}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{formatPeriod(invoice.period.start, invoice.period.end)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{formatDate(invoice.billing_at)}</Text>
                    </Table.Td>
                    <Table.Td style={{ textAlign: 'right' }}>
                      <Text size="sm" fw={600}>
                        {formatMoney(invoice.total, invoice.currency)}
                      </Text>
                    </Table.Td>
                    {canMarkPaid && (
                      <Table.Td style={{ textAlign: 'right' }}>
                        {isTransfer && (invoice.status === 'open' || invoice.status === 'past_due') && (
                          <Button
                            size="compact-sm"
                            variant="subtle"
                            onClick={() => setMarking(invoice)}
                            aria-label={`Mark ${invoice.number} paid`}
                          >
                            Mark paid
                          </Button>
                        )}
                      </Table.Td>
                    )}
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {marking && <MarkPaidModal invoice={marking} onClose={() => setMarking(null)} />}
    </Section>
  );
}

function MarkPaidModal({ invoice, onClose }: { invoice: Invoice; onClose: () => void }) {
  const queryClient = useQueryClient();
  const mark = useMutation({
    mutationFn: () => api<Invoice>('POST', `/v1/admin/invoices/${encodeURIComponent(invoice.id)}/mark-paid`),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['admin'] });
      notifications.show({ color: 'green', title: 'Invoice paid', message: `${invoice.number} is marked paid.` });
      onClose();
    },
  });
  return (
    <ConfirmModal
      opened
      onClose={onClose}
      title={`Mark ${invoice.number} paid?`}
      confirmLabel="Mark paid"
      color="indigo"
      onConfirm={() => mark.mutate()}
      isPending={mark.isPending}
      error={mark.error}
    >
      <Text size="sm">
        Only when the transfer of {formatMoney(invoice.total, invoice.currency)} has arrived: the invoice becomes paid
        and is never charged.
      </Text>
    </ConfirmModal>
  );
}

function AuditTrail({ detail }: { detail: StaffOrgDetail }) {
  const now = useNow();
  return (
    <Section
      title="Audit trail"
      id="audit-title"
      aside={
        <Text size="sm" c="dimmed">
          Latest {detail.audit_events.length}, newest first
        </Text>
      }
    >
      {detail.audit_events.length === 0 ? (
        <Text size="sm" c="dimmed">
          No events.
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={760}>
          <Table verticalSpacing="xs" data-testid="audit-trail">
            <Table.Thead>
              <Table.Tr>
                <Table.Th scope="col">When</Table.Th>
                <Table.Th scope="col">What</Table.Th>
                <Table.Th scope="col">Who</Table.Th>
                <Table.Th scope="col">Details</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {detail.audit_events.map((event) => (
                <Table.Tr key={event.id}>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>
                    <When iso={event.created_at} now={now} />
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" fw={600}>
                      {actionLabel(event.action)}
                    </Text>
                    {event.reason && (
                      <Text size="xs" c="dimmed">
                        Reason: {reasonLabel(event.reason)}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm">{actorLabel(event.actor, detail.members)}</Text>
                  </Table.Td>
                  <Table.Td>
                    <AuditDetails event={event} />
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Section>
  );
}

function AuditDetails({ event }: { event: AuditEvent }) {
  const hasChange = event.before != null || event.after != null;
  const target = event.target.id ? `${event.target.type} ${event.target.id}` : event.target.type;
  return (
    <Stack gap={2}>
      <Text size="xs" c="dimmed" ff="monospace" style={{ overflowWrap: 'anywhere' }}>
        {target}
      </Text>
      {hasChange && (
        <details>
          <summary style={{ cursor: 'pointer', fontSize: 'var(--mantine-font-size-xs)' }}>Before and after</summary>
          <Code block fz="xs" mt={4} style={{ maxWidth: 420, whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
            {JSON.stringify({ before: event.before, after: event.after }, null, 2)}
          </Code>
        </details>
      )}
    </Stack>
  );
}
