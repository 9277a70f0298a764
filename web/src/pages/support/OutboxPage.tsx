import { Anchor, Badge, Button, Card, Code, Group, Stack, Table, Text, TextInput } from '@mantine/core';
import { IconSearch } from '@tabler/icons-react';
import { type FormEvent, useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import type { OutboxEmail } from '../../api.ts';
import { ErrorState, PageLoader } from '../../components/States.tsx';
import { ShowMore } from '../../components/support/ShowMore.tsx';
import { StaffPageTitle } from '../../components/support/StaffPageTitle.tsx';
import { When } from '../../components/When.tsx';
import { useNow, useStaffList } from '../../queries.ts';

/** Support console → Outbox: every email Tierline sent or queued, by recipient. */
export function OutboxPage() {
  const [params, setParams] = useSearchParams();
  const to = params.get('to') ?? '';
  const [draft, setDraft] = useState(to);
  const emails = useStaffList<OutboxEmail>(['outbox'], '/v1/admin/outbox', to ? { to } : {});
  const now = useNow();
  const rows = emails.data?.pages.flatMap((page) => page.data) ?? [];

  useEffect(() => {
    document.title = 'Outbox · Support console · Tierline';
  }, []);
  useEffect(() => setDraft(to), [to]);

  const filter = (event: FormEvent) => {
    event.preventDefault();
    setParams(draft.trim() ? { to: draft.trim() } : {});
  };

  return (
    <Stack gap="lg">
      <StaffPageTitle title="Outbox">
        Emails Tierline sent or queued: invitations, warnings, invoices and deactivation notices.
      </StaffPageTitle>
      <Card withBorder padding="lg" radius="lg">
        <Stack gap="md">
          <Group component="form" role="search" onSubmit={filter} gap="sm" align="flex-end">
            <TextInput
              label="Recipient"
              type="email"
              placeholder="person@example.com"
              value={draft}
              onChange={(event) => setDraft(event.currentTarget.value)}
              leftSection={<IconSearch size={16} aria-hidden />}
              style={{ flex: '1 1 280px' }}
            />
            <Button type="submit">Show</Button>
            {to && (
              <Button variant="subtle" color="gray" onClick={() => setParams({})}>
                All recipients
              </Button>
            )}
          </Group>
          {emails.error ? (
            <ErrorState error={emails.error} onRetry={() => void emails.refetch()} />
          ) : !emails.data ? (
            <PageLoader label="Loading emails" />
          ) : rows.length === 0 ? (
            <Text size="sm" c="dimmed">
              {to ? `No email to ${to}.` : 'No emails yet.'}
            </Text>
          ) : (
            <>
              <Table.ScrollContainer minWidth={760}>
                <Table verticalSpacing="sm">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th scope="col">Queued</Table.Th>
                      <Table.Th scope="col">To</Table.Th>
                      <Table.Th scope="col">Subject and text</Table.Th>
                      <Table.Th scope="col">Kind</Table.Th>
                      <Table.Th scope="col">Sent</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {rows.map((email) => (
                      <Table.Tr key={email.id}>
                        <Table.Td style={{ whiteSpace: 'nowrap' }}>
                          <When iso={email.created_at} now={now} />
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{email.to}</Text>
                          {email.org_id && (
                            <Anchor
                              component={Link}
                              to={`/support/orgs/${encodeURIComponent(email.org_id)}`}
                              size="xs"
                              ff="monospace"
                            >
                              {email.org_id}
                            </Anchor>
                          )}
                        </Table.Td>
                        <Table.Td>
                          <details>
                            <summary style={{ cursor: 'pointer' }}>
                              <Text span size="sm" fw={600}>
                                {email.subject}
                              </Text>
                            </summary>
                            <Code block fz="xs" mt={4} style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
                              {email.body}
                            </Code>
                          </details>
                        </Table.Td>
                        <Table.Td>
                          <Badge variant="light" color="gray" tt="none">
                            {email.kind.replaceAll('_', ' ')}
                          </Badge>
                        </Table.Td>
                        <Table.Td>
                          <Text
                            size="sm"
                            c={email.status === 'failed' ? 'red' : email.status === 'sent' ? undefined : 'dimmed'}
                            title={email.last_error ?? undefined}
                          >
                            {email.status === 'failed' ? 'Refused' : email.status === 'sent' ? 'Sent' : 'Queued'}
                          </Text>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
              <ShowMore list={emails} label="Show more emails" />
            </>
          )}
        </Stack>
      </Card>
    </Stack>
  );
}
