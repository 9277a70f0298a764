import '@mantine/charts/styles.css';
import { BarChart } from '@mantine/charts';
import { Anchor, Card, Group, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { type DailyForecast, type Forecast, get } from '../../api.ts';
import { ErrorState, PageLoader } from '../../components/States.tsx';
import { PlanBadge } from '../../components/support/OrgBadges.tsx';
import { ShowMore } from '../../components/support/ShowMore.tsx';
import { StaffPageTitle } from '../../components/support/StaffPageTitle.tsx';
import { When } from '../../components/When.tsx';
import { formatDateTime, formatNumber, formatUtcDay } from '../../format.ts';
import { useNow, useStaffList } from '../../queries.ts';
import { dueWithin, forecastByDay } from '../../support.ts';

type Entry = Forecast['data'][number];

/** Support console → Deactivation forecast: free orgs that inactivity will deactivate, per day, if nothing happens. */
export function ForecastPage() {
  const [days, setDays] = useState('30');
  const forecast = useQuery({
    queryKey: ['admin', 'forecast', days],
    queryFn: () => get<DailyForecast>(`/v1/admin/lifecycle/forecast/daily?${new URLSearchParams({ days })}`),
  });

  useEffect(() => {
    document.title = 'Deactivation forecast · Support console · Tierline';
  }, []);

  const data = forecast.data;
  const perDay = data ? forecastByDay(data.days, data.as_of, data.until) : [];
  const total = perDay.reduce((sum, day) => sum + day.count, 0);
  const busiest = perDay.reduce((best, day) => (day.count > best.count ? day : best), { day: '', count: 0 });
  const inAWeek = dueWithin(perDay, 7);

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="flex-end" gap="sm">
        <div style={{ flex: '1 1 420px' }}>
          <StaffPageTitle title="Deactivation forecast">
            Free organizations with no login and no API traffic are deactivated 30 days after the later of the two. If
            nothing happens, these fall due on these days (UTC).
          </StaffPageTitle>
        </div>
        <SegmentedControl
          value={days}
          onChange={setDays}
          aria-label="Days ahead"
          data={[
            { value: '7', label: '7 days' },
            { value: '30', label: '30 days' },
            { value: '90', label: '90 days' },
          ]}
        />
      </Group>
      {forecast.error ? (
        <ErrorState error={forecast.error} onRetry={() => void forecast.refetch()} />
      ) : !data ? (
        <PageLoader label="Reading the forecast" />
      ) : (
        <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby="forecast-chart-title">
          <Stack gap="md">
            <Title order={2} size="h3" id="forecast-chart-title">
              Organizations falling due per day
            </Title>
            <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="md">
              <Stat label={`Next ${days} days`} value={formatNumber(total)} />
              <Stat label="Within a week" value={formatNumber(inAWeek)} />
              <Stat
                label="Busiest day"
                value={busiest.count ? formatNumber(busiest.count) : '—'}
                hint={busiest.count ? formatUtcDay(`${busiest.day}T00:00:00.000Z`) : undefined}
              />
            </SimpleGrid>
            <div
              role="img"
              aria-label={`Bar chart: ${total} organizations fall due over the next ${days} days; the list below has each of them.`}
            >
              <BarChart
                h={260}
                data={perDay.map((day) => ({
                  day: formatUtcDay(`${day.day}T00:00:00.000Z`),
                  organizations: day.count,
                }))}
                dataKey="day"
                series={[{ name: 'organizations', label: 'Organizations falling due', color: 'orange.7' }]}
                valueFormatter={(value) => formatNumber(value)}
                yAxisProps={{ allowDecimals: false, width: 40 }}
                xAxisProps={{ interval: 'preserveStartEnd', minTickGap: 24 }}
                maxBarWidth={18}
              />
            </div>
            <Text size="xs" c="dimmed">
              As of {formatDateTime(data.as_of)}. A login or API traffic moves an organization’s date 30 days later; a
              paid plan takes it off the forecast.
            </Text>
          </Stack>
        </Card>
      )}
      <ForecastList days={days} total={data ? total : undefined} />
    </Stack>
  );
}

/** Every org falling due within `days`, soonest first, page by page. */
function ForecastList({ days, total }: { days: string; total: number | undefined }) {
  const list = useStaffList<Entry>(['forecast-list'], '/v1/admin/lifecycle/forecast', { days });
  const now = useNow();
  const rows = list.data?.pages.flatMap((page) => page.data) ?? [];
  return (
    <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby="forecast-list-title">
      <Stack gap="md">
        <Group justify="space-between" align="baseline">
          <Title order={2} size="h3" id="forecast-list-title">
            Soonest first
          </Title>
          {rows.length > 0 && (
            <Text size="sm" c="dimmed" aria-live="polite">
              {list.hasNextPage
                ? `${formatNumber(rows.length)}${total !== undefined ? ` of ${formatNumber(total)}` : ''} shown`
                : `All ${formatNumber(rows.length)}`}
            </Text>
          )}
        </Group>
        {list.error ? (
          <ErrorState error={list.error} onRetry={() => void list.refetch()} />
        ) : !list.data ? (
          <PageLoader label="Loading the organizations" />
        ) : rows.length === 0 ? (
          <Text size="sm" c="dimmed">
            No free organization falls due in the next {days} days.
          </Text>
        ) : (
          <>
            <Table.ScrollContainer minWidth={640}>
              <Table verticalSpacing="xs" highlightOnHover>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">Organization</Table.Th>
                    <Table.Th scope="col">Plan</Table.Th>
                    <Table.Th scope="col">Last login</Table.Th>
                    <Table.Th scope="col">Deactivates</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {rows.map((entry) => (
                    <Table.Tr key={entry.id}>
                      <Table.Td>
                        <Anchor
                          component={Link}
                          to={`/support/orgs/${encodeURIComponent(entry.id)}`}
                          size="sm"
                          fw={600}
                        >
                          {entry.name}
                        </Anchor>
                        <Text size="xs" c="dimmed">
                          {entry.email}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <PlanBadge plan={entry.plan} />
                      </Table.Td>
                      <Table.Td>
                        <When iso={entry.last_login_at} now={now} />
                      </Table.Td>
                      <Table.Td>
                        <When iso={entry.deactivates_at} now={now} />
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <ShowMore list={list} label="Show more organizations" />
          </>
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
