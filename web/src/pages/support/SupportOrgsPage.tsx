import { Anchor, Button, Card, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { IconSearch } from '@tabler/icons-react';
import { type FormEvent, useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { Org } from '../../api.ts';
import { ErrorState, PageLoader } from '../../components/States.tsx';
import { OrgStatusBadge, PlanBadge } from '../../components/support/OrgBadges.tsx';
import { ShowMore } from '../../components/support/ShowMore.tsx';
import { When } from '../../components/When.tsx';
import { formatDate } from '../../format.ts';
import { useNow, useStaffList } from '../../queries.ts';

/** Support console → Organizations: search by name, email or id; open one for its detail. */
export function SupportOrgsPage() {
  const [params, setParams] = useSearchParams();
  const query = params.get('query') ?? '';
  const [draft, setDraft] = useState(query);
  const orgs = useStaffList<Org>(['orgs'], '/v1/admin/orgs', query ? { query } : {});
  const now = useNow();
  const rows = orgs.data?.pages.flatMap((page) => page.data) ?? [];

  useEffect(() => {
    document.title = 'Organizations · Support console · Tierline';
  }, []);
  useEffect(() => setDraft(query), [query]);

  const search = (event: FormEvent) => {
    event.preventDefault();
    const text = draft.trim();
    setParams(text ? { query: text } : {});
  };

  return (
    <Stack gap="lg">
      <div>
        <Text size="sm" c="dimmed" fw={600}>
          Support console
        </Text>
        <Title order={1}>Organizations</Title>
      </div>
      <Card withBorder padding="lg" radius="lg">
        <Stack gap="md">
          <Group component="form" role="search" onSubmit={search} gap="sm" align="flex-end">
            <TextInput
              label="Search organizations"
              placeholder="Name, email or org_… id"
              value={draft}
              onChange={(event) => setDraft(event.currentTarget.value)}
              leftSection={<IconSearch size={16} aria-hidden />}
              style={{ flex: '1 1 280px' }}
              maxLength={200}
            />
            <Button type="submit">Search</Button>
          </Group>
          {orgs.error ? (
            <ErrorState error={orgs.error} onRetry={() => void orgs.refetch()} />
          ) : !orgs.data ? (
            <PageLoader label="Searching" />
          ) : rows.length === 0 ? (
            <Text size="sm" c="dimmed">
              {query ? `No organization’s name, email or id matches “${query}”.` : 'No organizations yet.'}
            </Text>
          ) : (
            <>
              <Text size="sm" c="dimmed" aria-live="polite">
                {query ? `Matching “${query}”, newest first.` : 'All organizations, newest first.'}
              </Text>
              <Table.ScrollContainer minWidth={860}>
                <Table verticalSpacing="sm" highlightOnHover>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th scope="col">Organization</Table.Th>
                      <Table.Th scope="col">Status</Table.Th>
                      <Table.Th scope="col">Plan</Table.Th>
                      <Table.Th scope="col">Last login</Table.Th>
                      <Table.Th scope="col">Deactivation</Table.Th>
                      <Table.Th scope="col">Created</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {rows.map((org) => (
                      <Table.Tr key={org.id}>
                        <Table.Td>
                          <Anchor
                            component={Link}
                            to={`/support/orgs/${encodeURIComponent(org.id)}`}
                            fw={600}
                            size="sm"
                          >
                            {org.name}
                          </Anchor>
                          <Text size="xs" c="dimmed">
                            {org.email}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <OrgStatusBadge status={org.status} />
                        </Table.Td>
                        <Table.Td>
                          <PlanBadge plan={org.plan} />
                        </Table.Td>
                        <Table.Td>
                          <When iso={org.last_login_at} now={now} />
                        </Table.Td>
                        <Table.Td>
                          {org.status === 'deactivated' && org.deactivated_at ? (
                            <Text size="sm">Since {formatDate(org.deactivated_at)}</Text>
                          ) : org.projected_deactivation_at ? (
                            <When iso={org.projected_deactivation_at} now={now} />
                          ) : (
                            <Text size="sm" c="dimmed">
                              {org.plan === 'free' ? '—' : 'Exempt (paid plan)'}
                            </Text>
                          )}
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{formatDate(org.created_at)}</Text>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
              <ShowMore list={orgs} label="Show more organizations" />
            </>
          )}
        </Stack>
      </Card>
    </Stack>
  );
}
