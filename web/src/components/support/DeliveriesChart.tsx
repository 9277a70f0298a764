import '@mantine/charts/styles.css';
import { BarChart } from '@mantine/charts';
import { Group, SegmentedControl, SimpleGrid, Stack, Text } from '@mantine/core';
import { formatNumber, formatUtcDay } from '../../format.ts';
import { useWebhookDailyDeliveries } from '../../queries.ts';
import { deliveriesByDay } from '../../support.ts';
import { ErrorState, PageLoader } from '../States.tsx';

const SERIES = [
  { name: 'delivered', label: 'Delivered', color: 'teal.7' },
  { name: 'waiting', label: 'Pending or retrying', color: 'yellow.5' },
  { name: 'failed', label: 'Failed', color: 'red.7' },
];

/** An endpoint's deliveries per UTC day of their event over the last days, stacked by where each stands now. */
export function DeliveriesChart({
  endpointId,
  days,
  onDaysChange,
}: {
  endpointId: string;
  days: string;
  onDaysChange: (days: string) => void;
}) {
  const daily = useWebhookDailyDeliveries(endpointId, Number(days));
  const perDay = daily.data ? deliveriesByDay(daily.data) : [];
  const totals = perDay.reduce(
    (sum, day) => ({
      delivered: sum.delivered + day.delivered,
      waiting: sum.waiting + day.waiting,
      failed: sum.failed + day.failed,
    }),
    { delivered: 0, waiting: 0, failed: 0 },
  );
  const all = totals.delivered + totals.waiting + totals.failed;
  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" gap="sm">
        <SimpleGrid cols={3} spacing="xl" style={{ flex: '1 1 320px' }}>
          <Stat label="Delivered" value={totals.delivered} color="teal.9" />
          <Stat label="Pending or retrying" value={totals.waiting} />
          <Stat label="Failed" value={totals.failed} color={totals.failed > 0 ? 'red.9' : undefined} />
        </SimpleGrid>
        <SegmentedControl
          value={days}
          onChange={onDaysChange}
          aria-label="Days shown"
          size="xs"
          data={[
            { value: '7', label: '7 days' },
            { value: '14', label: '14 days' },
            { value: '30', label: '30 days' },
          ]}
        />
      </Group>
      {daily.error ? (
        <ErrorState error={daily.error} onRetry={() => void daily.refetch()} />
      ) : !daily.data ? (
        <PageLoader label="Counting deliveries" />
      ) : (
        <div
          role="img"
          aria-label={`Bar chart of the last ${days} days: ${all} deliveries, ${totals.delivered} delivered, ${totals.waiting} pending or retrying, ${totals.failed} failed. The log below lists each.`}
        >
          <BarChart
            h={200}
            type="stacked"
            data={perDay.map((day) => ({ ...day, day: formatUtcDay(`${day.day}T00:00:00.000Z`) }))}
            dataKey="day"
            series={SERIES}
            withLegend
            legendProps={{ verticalAlign: 'bottom', height: 36 }}
            valueFormatter={(value) => formatNumber(value)}
            yAxisProps={{ allowDecimals: false, width: 32 }}
            xAxisProps={{ interval: 'preserveStartEnd', minTickGap: 20 }}
            maxBarWidth={22}
          />
        </div>
      )}
    </Stack>
  );
}

function Stat({ label, value, color }: { label: string; value: number; color?: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="xl" fw={700} c={color}>
        {formatNumber(value)}
      </Text>
    </div>
  );
}
