import '@mantine/charts/styles.css';
import { BarChart, CompositeChart } from '@mantine/charts';
import { Anchor, Card, Center, Group, Progress, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { IconChartBar } from '@tabler/icons-react';
import { Link } from 'react-router';
import type { Subscription, Usage } from '../api.ts';
import { previousPeriodStart } from '../billing.ts';
import { formatCompact, formatNumber, formatPeriod, formatUtcDay } from '../format.ts';
import { useUsage } from '../queries.ts';
import { ErrorState, PageLoader } from './States.tsx';

const DAY = 86_400_000;

/** The UTC midnight after `at`: a chart's end that stays the same all day, so queries are not refetched each render. */
const nextUtcMidnight = (at: Date) => new Date(Math.floor(at.getTime() / DAY) * DAY + DAY);

interface Point {
  day: string;
  requests: number;
  previousTotal?: number;
  currentTotal?: number;
}

/** Daily requests of both usage answers (they share the boundary day) with each period's running total. */
function chartPoints(previous: Usage | undefined, current: Usage): Point[] {
  const byDay = new Map<string, Point>();
  let running = 0;
  for (const point of previous?.series ?? []) {
    running += point.requests;
    byDay.set(point.start, { day: formatUtcDay(point.start), requests: point.requests, previousTotal: running });
  }
  running = 0;
  for (const point of current.series) {
    running += point.requests;
    const earlier = byDay.get(point.start);
    byDay.set(point.start, {
      ...earlier,
      day: formatUtcDay(point.start),
      requests: (earlier?.requests ?? 0) + point.requests,
      currentTotal: running,
    });
  }
  return [...byDay.values()];
}

/**
 * API requests per day: on a paid plan over the current and previous billing period, with the running
 * total of the period against the requests included per invoice; on Free over the last 60 days.
 */
export function UsageCard({
  orgId,
  subscription,
  included,
  now,
}: {
  orgId: string;
  subscription: Subscription | null;
  included: number | null;
  now: Date;
}) {
  const end = nextUtcMidnight(now).toISOString();
  const current = subscription?.current_period ?? null;
  const previousStart = subscription ? previousPeriodStart(subscription) : null;
  const previous = useUsage(
    orgId,
    current && previousStart ? { start: previousStart.toISOString(), end: current.start } : undefined,
  );
  const sixtyDaysAgo = new Date(nextUtcMidnight(now).getTime() - 60 * DAY).toISOString();
  const recent = useUsage(orgId, { start: current ? current.start : sixtyDaysAgo, end });

  const failed = previous.error ?? recent.error;
  return (
    <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby="usage-title">
      <Stack gap="md">
        <Group justify="space-between" align="flex-start" wrap="wrap" gap="xs">
          <div>
            <Title order={2} size="h3" id="usage-title">
              Usage
            </Title>
            <Text size="sm" c="dimmed">
              {current
                ? 'API requests per day over this billing period and the previous one'
                : 'API requests per day over the last 60 days'}{' '}
              (days in UTC)
            </Text>
          </div>
        </Group>
        {failed ? (
          <ErrorState
            error={failed}
            onRetry={() => {
              void previous.refetch();
              void recent.refetch();
            }}
          />
        ) : !recent.data || (current && !previous.data) ? (
          <PageLoader label="Loading usage" />
        ) : current ? (
          <PaidUsage
            previous={previous.data}
            current={recent.data}
            currentPeriod={current}
            previousStart={previousStart}
            included={included}
          />
        ) : (
          <FreeUsage usage={recent.data} />
        )}
      </Stack>
    </Card>
  );
}

function Stat({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="xl" fw={700}>
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </div>
  );
}

function PaidUsage({
  previous,
  current,
  currentPeriod,
  previousStart,
  included,
}: {
  previous: Usage | undefined;
  current: Usage;
  currentPeriod: { start: string; end: string };
  previousStart: Date | null;
  included: number | null;
}) {
  const points = chartPoints(previous, current);
  const share = included ? Math.min(100, (current.total / included) * 100) : 0;
  const boundaryDay = formatUtcDay(currentPeriod.start);
  const peak = Math.max(
    included ?? 0,
    ...points.map((point) => Math.max(point.previousTotal ?? 0, point.currentTotal ?? 0)),
  );
  return (
    <Stack gap="lg">
      <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="md">
        <Stat
          label="This period so far"
          value={formatNumber(current.total)}
          hint={`${formatPeriod(currentPeriod.start, currentPeriod.end)}`}
        />
        <Stat
          label="Included per invoice"
          value={included === null ? '—' : formatNumber(included)}
          hint={
            included === null
              ? undefined
              : current.total > included
                ? `${formatNumber(current.total - included)} requests over`
                : `${formatNumber(included - current.total)} left this period`
          }
        />
        <Stat
          label="Previous period"
          value={formatNumber(previous?.total ?? 0)}
          hint={previousStart ? formatPeriod(previousStart.toISOString(), currentPeriod.start) : undefined}
        />
      </SimpleGrid>
      {included !== null && (
        <Progress
          value={share}
          color={current.total > included ? 'orange' : 'indigo'}
          size="md"
          aria-label={`Requests this period: ${Math.round((current.total / included) * 100)}% of those included`}
        />
      )}
      <CompositeChart
        h={300}
        data={points}
        dataKey="day"
        withLegend
        legendProps={{ verticalAlign: 'bottom', height: 40 }}
        withRightYAxis
        yAxisLabel="Requests per day"
        rightYAxisLabel="This period, running total"
        valueFormatter={(value) => formatNumber(value)}
        yAxisProps={{ tickFormatter: (value: number) => formatCompact(value), width: 56 }}
        rightYAxisProps={{ tickFormatter: (value: number) => formatCompact(value), domain: [0, Math.ceil(peak * 1.1)] }}
        xAxisProps={{ interval: 'preserveStartEnd', minTickGap: 24 }}
        maxBarWidth={14}
        series={[
          { name: 'requests', label: 'Requests per day', type: 'bar', color: 'indigo.5' },
          {
            name: 'previousTotal',
            label: 'Previous period, running total',
            type: 'line',
            color: 'gray.5',
            yAxisId: 'right',
          },
          {
            name: 'currentTotal',
            label: 'This period, running total',
            type: 'line',
            color: 'teal.7',
            yAxisId: 'right',
          },
        ]}
        withDots={false}
        referenceLines={[
          ...(included === null
            ? []
            : [
                {
                  y: included,
                  yAxisId: 'right',
                  color: 'orange.7',
                  label: `Included: ${formatNumber(included)}`,
                  labelPosition: 'insideTopLeft' as const,
                  strokeDasharray: '6 4',
                },
              ]),
          { x: boundaryDay, color: 'gray.6', label: 'Period start', labelPosition: 'insideTopRight' as const },
        ]}
      />
    </Stack>
  );
}

function FreeUsage({ usage }: { usage: Usage }) {
  const points = usage.series.map((point) => ({ day: formatUtcDay(point.start), requests: point.requests }));
  return (
    <Stack gap="lg">
      {usage.total > 0 && (
        <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="md">
          <Stat label="Last 60 days" value={formatNumber(usage.total)} hint="Unlimited and not billed on Free" />
          <Stat label="Busiest day" value={formatNumber(Math.max(0, ...usage.series.map((point) => point.requests)))} />
          <Stat
            label="Days with traffic"
            value={formatNumber(usage.series.filter((point) => point.requests > 0).length)}
          />
        </SimpleGrid>
      )}
      {usage.total === 0 ? (
        <Center
          mih={180}
          p="lg"
          style={{ border: '1px dashed var(--mantine-color-gray-4)', borderRadius: 'var(--mantine-radius-md)' }}
        >
          <Stack gap={6} align="center" maw={420}>
            <IconChartBar size={32} stroke={1.4} color="var(--mantine-color-gray-6)" aria-hidden />
            <Text fw={600} ta="center">
              No API requests in the last 60 days
            </Text>
            <Text size="sm" c="dimmed" ta="center">
              Requests proxied by your{' '}
              <Anchor component={Link} to="/runtimes" size="sm" underline="always">
                runtimes
              </Anchor>{' '}
              appear here, per day, once the runtimes report them.
            </Text>
          </Stack>
        </Center>
      ) : (
        <BarChart
          h={280}
          data={points}
          dataKey="day"
          series={[{ name: 'requests', label: 'Requests per day', color: 'indigo.5' }]}
          valueFormatter={(value) => formatNumber(value)}
          yAxisProps={{ tickFormatter: (value: number) => formatCompact(value), width: 56 }}
          xAxisProps={{ interval: 'preserveStartEnd', minTickGap: 24 }}
          maxBarWidth={14}
        />
      )}
    </Stack>
  );
}
