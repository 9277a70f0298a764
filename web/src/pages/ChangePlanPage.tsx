import { Badge, Button, Card, Group, List, SimpleGrid, Stack, Text, ThemeIcon, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { IconCheck } from '@tabler/icons-react';
import { useEffect } from 'react';
import { Link } from 'react-router';
import type { Plan, PlanId } from '../api.ts';
import { canManageBilling, PLAN_NAMES, planFeatures, planPrice } from '../billing.ts';
import { BackLink } from '../components/BackLink.tsx';
import { CancelPlanModal } from '../components/CancelPlanModal.tsx';
import { ErrorState, PageLoader } from '../components/States.tsx';
import { useBilling, useCatalog, useMember } from '../queries.ts';

/** Change Plan: a tile per plan of the catalog, with what each one allows from the current plan. */
export function ChangePlanPage() {
  const member = useMember()!;
  const orgId = member.org.id;
  const billing = useBilling(orgId);
  const catalog = useCatalog();
  const [isCancelOpen, cancel] = useDisclosure(false);

  useEffect(() => {
    document.title = 'Change Plan · Tierline';
  }, []);

  const failed = billing.error ?? catalog.error;
  const canManage = canManageBilling(member.roles);
  return (
    <Stack gap="lg">
      <Stack gap={4}>
        <BackLink to="/settings/billing">Billing and Usage</BackLink>
        <Title order={1}>Change Plan</Title>
        <Text c="dimmed" size="sm">
          Choose the plan for {member.org.name}. Paid plans are billed monthly in arrears: nothing is charged today.
        </Text>
      </Stack>
      {failed ? (
        <ErrorState error={failed} onRetry={() => void Promise.all([billing.refetch(), catalog.refetch()])} />
      ) : !billing.data || !catalog.data ? (
        <PageLoader label="Loading plans" />
      ) : (
        <SimpleGrid cols={{ base: 1, md: 3 }} spacing="lg">
          {catalog.data.data.map((plan) => (
            <PlanTile
              key={plan.id}
              plan={plan}
              currency={catalog.data.currency}
              current={billing.data.plan}
              canManage={canManage}
              onDowngrade={cancel.open}
            />
          ))}
        </SimpleGrid>
      )}
      {!canManage && (
        <Text size="sm" c="dimmed">
          Only the owner and org admins can change the plan.
        </Text>
      )}
      {billing.data?.plan === 'plus' && (
        <CancelPlanModal
          orgId={orgId}
          opened={isCancelOpen}
          onClose={cancel.close}
          paymentMethod={billing.data.payment_method}
          planName="Plus"
        />
      )}
    </Stack>
  );
}

function PlanTile({
  plan,
  currency,
  current,
  canManage,
  onDowngrade,
}: {
  plan: Plan;
  currency: string;
  current: PlanId;
  canManage: boolean;
  onDowngrade: () => void;
}) {
  const isCurrent = plan.id === current;
  const titleId = `plan-${plan.id}-title`;
  let action: React.ReactNode = null;
  if (isCurrent) {
    action = (
      <Button variant="default" disabled fullWidth>
        Your current plan
      </Button>
    );
  } else if (!canManage) {
    action = null;
  } else if (plan.id === 'enterprise') {
    action = (
      <Button component={Link} to="/settings/billing/contact-sales" variant="default" fullWidth>
        Contact Sales
      </Button>
    );
  } else if (current === 'enterprise') {
    action = (
      <Text size="sm" c="dimmed" ta="center">
        Enterprise contracts are changed by our sales team.
      </Text>
    );
  } else if (plan.id === 'plus') {
    action = (
      <Button component={Link} to="/settings/billing/upgrade" fullWidth>
        Upgrade
      </Button>
    );
  } else if (plan.id === 'free') {
    action = (
      <Button variant="default" color="red" onClick={onDowngrade} fullWidth>
        Downgrade
      </Button>
    );
  }
  return (
    <Card
      withBorder
      padding="lg"
      radius="lg"
      className="plan-tile"
      data-current={isCurrent}
      component="section"
      aria-labelledby={titleId}
    >
      <Stack gap="md" h="100%" justify="space-between">
        <Stack gap="sm">
          <Group justify="space-between" align="center">
            <Title order={2} size="h3" id={titleId}>
              {plan.name || PLAN_NAMES[plan.id]}
            </Title>
            {isCurrent && (
              <Badge variant="filled" color="indigo">
                Current
              </Badge>
            )}
          </Group>
          <Text size="xl" fw={700}>
            {planPrice(plan, currency)}
          </Text>
          <List
            spacing={6}
            size="sm"
            icon={
              <ThemeIcon size={18} radius="xl" variant="light" color="teal">
                <IconCheck size={12} aria-hidden />
              </ThemeIcon>
            }
          >
            {planFeatures(plan, currency).map((feature) => (
              <List.Item key={feature}>{feature}</List.Item>
            ))}
          </List>
        </Stack>
        {action}
      </Stack>
    </Card>
  );
}
