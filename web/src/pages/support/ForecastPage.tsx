import '@mantine/charts/styles.css';
import { BarChart } from '@mantine/charts';
import { Alert, Anchor, Card, Group, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { type Forecast, get } from '../../api.ts';
import { ErrorState, PageLoader } from '../../components/States.tsx';
import { PlanBadge } from '../../components/support/OrgBadges.tsx';
import { StaffPageTitle } from '../../components/support/StaffPageTitle.tsx';
import { When } from '../../components/When.tsx';
import { formatDateTime, formatNumber, formatUtcDay } from '../../format.ts';
import { useNow } from '../../queries.ts';
import { forecastByDay } from '../../support.ts';

/** The forecast is read page by page; past this many orgs the chart says it shows only the first ones. */
const MAX_ORGS = 2000;
const PAGE = 100;

type Entry = Forecast['data'][number];

/** Every org of the forecast up to MAX_ORGS, following the cursor. */
async function readForecast(days: number) {
  const entries: Entry[] = [];
  let first: Forecast | undefined;
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ days: String(days), limit: String(PAGE), ...(cursor ? { cursor } : {}) });
    const page: Forecast = await get<Forecast>(`/v1/admin/lifecycle/forecast?${query}`);
    first ??= page;
    entries.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor && entries.length < MAX_ORGS);
  return { asOf: first.as_of, until: first.until, entries, isTruncated: cursor !== null };
}

/** Support console → Deactivation forecast: free orgs that inactivity will deactivate, per day, if nothing happens. */
export function ForecastPage() {
  const [days, setDays] = useState('30');
  const forecast = useQuery({
    queryKey: ['admin', 'forecast', days],
    queryFn: () => readForecast(Number(days)),
  });
  const now = useNow();

  useEffect(() => {
    document.title = 'Deactivation forecast · Support console · Tierline';
  }, []);

  const data = forecast.data;
  const perDay = data
    ? forecastByDay(
        data.entries.map((entry) => entry.deactivates_at),
        data.asOf,
        data.until,
      )
    : [];
  const busiest = perDay.reduce((best, day) => (day.count > best.count ? day : best), { day: '', count: 0 });
  const weekAhead = data ? new Date(data.asOf).getTime() + 7 * 86_400_000 : 0;
  const inAWeek = data?.entries.filter((entry) => new Date(entry.deactivates_at).getTime() <= weekAhead).length ?? 0;

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
        <>
          <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby="forecast-chart-title">
            <Stack gap="md">
              <Title order={2} size="h3" id="forecast-chart-title">
                Organizations falling due per day
              </Title>
              <SimpleGrid cols={{ base: 1, xs: 3 }} spacing="md">
                <Stat label={`Next ${days} days`} value={formatNumber(data.entries.length)} />
                <Stat label="Within a week" value={formatNumber(inAWeek)} />
                <Stat
                  label="Busiest day"
                  value={busiest.count ? formatNumber(busiest.count) : '—'}
                  hint={busiest.count ? formatUtcDay(`${busiest.day}T00:00:00.000Z`) : undefined}
                />
              </SimpleGrid>
              {data.isTruncated && (
                <Alert color="orange" variant="light">
                  The chart and list show the first {formatNumber(MAX_ORGS)} organizations falling due, not all of them.
                </Alert>
              )}
              <div
                role="img"
                aria-label={`Bar chart: ${data.entries.length} organizations fall due over the next ${days} days; the list below has each of them.`}
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
                As of {formatDateTime(data.asOf)}. A login or API traffic moves an organization’s date 30 days later; a
                paid plan takes it off the forecast.
              </Text>
            </Stack>
          </Card>
          <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby="forecast-list-title">
            <Stack gap="md">
              <Title order={2} size="h3" id="forecast-list-title">
                Soonest first
              </Title>
              {data.entries.length === 0 ? (
                <Text size="sm" c="dimmed">
                  No free organization falls due in the next {days} days.
                </Text>
              ) : (
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
                      {data.entries.map((entry) => (
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
              )}
            </Stack>
          </Card>
        </>
      )}
    </Stack>
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
