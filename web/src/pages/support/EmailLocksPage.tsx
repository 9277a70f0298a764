import { Anchor, Button, Card, Group, Stack, Table, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { IconLockOpen, IconSearch } from '@tabler/icons-react';
import { type FormEvent, useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { hasStaffRole } from '../../access.ts';
import type { EmailLock } from '../../api.ts';
import { ErrorState, PageLoader } from '../../components/States.tsx';
import { NeedsStaffRole } from '../../components/support/NeedsStaffRole.tsx';
import { ShowMore } from '../../components/support/ShowMore.tsx';
import { StaffPageTitle } from '../../components/support/StaffPageTitle.tsx';
import { UnlockEmailModal } from '../../components/support/UnlockEmailModal.tsx';
import { When } from '../../components/When.tsx';
import { useNow, useStaff, useStaffList } from '../../queries.ts';
import { reasonLabel } from '../../support.ts';

/** Support console → Email locks: the emails deactivation locked, by email, and unlocking one (support). */
export function EmailLocksPage() {
  const staff = useStaff()!;
  const isSupport = hasStaffRole(staff.staff_roles, 'support');
  useEffect(() => {
    document.title = 'Email locks · Support console · Tierline';
  }, []);
  return (
    <Stack gap="lg">
      <StaffPageTitle title="Email locks">
        A deactivated organization’s email cannot sign up or create an organization until it is unlocked. Unlocking
        leaves the organization deactivated.
      </StaffPageTitle>
      {isSupport ? <LocksCard /> : <NeedsStaffRole staffRole="support" what="Email locks" />}
    </Stack>
  );
}

function LocksCard() {
  const [params, setParams] = useSearchParams();
  const email = params.get('email') ?? '';
  const [draft, setDraft] = useState(email);
  const locks = useStaffList<EmailLock>(['email-locks'], '/v1/admin/email-locks', email ? { email } : {});
  const now = useNow();
  const [unlocking, setUnlocking] = useState<string | null>(null);
  const rows = locks.data?.pages.flatMap((page) => page.data) ?? [];

  useEffect(() => setDraft(email), [email]);

  const search = (event: FormEvent) => {
    event.preventDefault();
    setParams(draft.trim() ? { email: draft.trim() } : {});
  };

  return (
    <Card withBorder padding="lg" radius="lg">
      <Stack gap="md">
        <Group component="form" role="search" onSubmit={search} gap="sm" align="flex-end">
          <TextInput
            label="Email"
            description="The whole address; upper and lower case are the same."
            type="email"
            placeholder="person@example.com"
            value={draft}
            onChange={(event) => setDraft(event.currentTarget.value)}
            leftSection={<IconSearch size={16} aria-hidden />}
            style={{ flex: '1 1 280px' }}
            maxLength={254}
          />
          <Button type="submit">Search</Button>
          {email && (
            <Button variant="subtle" color="gray" onClick={() => setParams({})}>
              All locks
            </Button>
          )}
        </Group>
        {locks.error ? (
          <ErrorState error={locks.error} onRetry={() => void locks.refetch()} />
        ) : !locks.data ? (
          <PageLoader label="Loading email locks" />
        ) : rows.length === 0 ? (
          <Text size="sm" c="dimmed" aria-live="polite">
            {email ? `No lock on ${email}.` : 'No email is locked.'}
          </Text>
        ) : (
          <>
            <Text size="sm" c="dimmed" aria-live="polite">
              {email ? `Locks on ${email}, newest first.` : 'Every lock, newest first.'}
            </Text>
            <Table.ScrollContainer minWidth={680}>
              <Table verticalSpacing="sm" highlightOnHover>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">Email</Table.Th>
                    <Table.Th scope="col">Organization</Table.Th>
                    <Table.Th scope="col">Reason</Table.Th>
                    <Table.Th scope="col">Locked</Table.Th>
                    <Table.Th scope="col">
                      <VisuallyHidden>Actions</VisuallyHidden>
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {rows.map((lock) => (
                    <Table.Tr key={lock.id} data-testid={`lock-${lock.email}`}>
                      <Table.Td>
                        <Text size="sm" fw={600}>
                          {lock.email}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Anchor
                          component={Link}
                          to={`/support/orgs/${encodeURIComponent(lock.org_id)}`}
                          size="sm"
                          fw={600}
                          ff={lock.org_name === null ? 'monospace' : undefined}
                        >
                          {lock.org_name ?? lock.org_id}
                        </Anchor>
                        {lock.org_name !== null && (
                          <Text size="xs" c="dimmed" ff="monospace">
                            {lock.org_id}
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{reasonLabel(lock.reason)}</Text>
                      </Table.Td>
                      <Table.Td>
                        <When iso={lock.created_at} now={now} />
                      </Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>
                        <Button
                          variant="subtle"
                          size="compact-sm"
                          leftSection={<IconLockOpen size={14} aria-hidden />}
                          onClick={() => setUnlocking(lock.email)}
                          aria-label={`Unlock ${lock.email}`}
                        >
                          Unlock
                        </Button>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <ShowMore list={locks} label="Show more locks" />
          </>
        )}
      </Stack>
      {unlocking && <UnlockEmailModal email={unlocking} onClose={() => setUnlocking(null)} />}
    </Card>
  );
}
