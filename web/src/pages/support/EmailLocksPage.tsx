import { Anchor, Button, Card, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconLockOpen } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { hasStaffRole } from '../../access.ts';
import { api, type EmailLock } from '../../api.ts';
import { ConfirmModal } from '../../components/ConfirmModal.tsx';
import { ErrorState, PageLoader } from '../../components/States.tsx';
import { NeedsStaffRole } from '../../components/support/NeedsStaffRole.tsx';
import { ShowMore } from '../../components/support/ShowMore.tsx';
import { StaffPageTitle } from '../../components/support/StaffPageTitle.tsx';
import { When } from '../../components/When.tsx';
import { useNow, useStaff, useStaffList } from '../../queries.ts';
import { reasonLabel } from '../../support.ts';

/** Support console → Email locks: the emails deactivation locked, and unlocking one (support). */
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
  const locks = useStaffList<EmailLock>(['email-locks'], '/v1/admin/email-locks');
  const now = useNow();
  const [unlocking, setUnlocking] = useState<EmailLock | null>(null);
  const rows = locks.data?.pages.flatMap((page) => page.data) ?? [];
  return (
    <Card withBorder padding="lg" radius="lg">
      {locks.error ? (
        <ErrorState error={locks.error} onRetry={() => void locks.refetch()} />
      ) : !locks.data ? (
        <PageLoader label="Loading email locks" />
      ) : rows.length === 0 ? (
        <Text size="sm" c="dimmed">
          No email is locked.
        </Text>
      ) : (
        <Stack gap="md">
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
                        ff="monospace"
                      >
                        {lock.org_id}
                      </Anchor>
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
                        onClick={() => setUnlocking(lock)}
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
          <ShowMore
            hasMore={locks.hasNextPage}
            isLoading={locks.isFetchingNextPage}
            onMore={() => void locks.fetchNextPage()}
            label="Show more locks"
          />
        </Stack>
      )}
      {unlocking && <UnlockModal lock={unlocking} onClose={() => setUnlocking(null)} />}
    </Card>
  );
}

function UnlockModal({ lock, onClose }: { lock: EmailLock; onClose: () => void }) {
  const queryClient = useQueryClient();
  const unlock = useMutation({
    mutationFn: () => api<{ email: string }>('DELETE', `/v1/admin/email-locks/${encodeURIComponent(lock.email)}`),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['admin'] });
      notifications.show({ color: 'green', title: 'Email unlocked', message: `${lock.email} can sign up again.` });
      onClose();
    },
  });
  return (
    <ConfirmModal
      opened
      onClose={onClose}
      title={`Unlock ${lock.email}?`}
      confirmLabel="Unlock email"
      color="indigo"
      onConfirm={() => unlock.mutate()}
      isPending={unlock.isPending}
      error={unlock.error}
    >
      <Text size="sm">
        Every lock on this email is lifted: it can sign up and create organizations again. The deactivated organization
        stays deactivated; reactivating it is a separate step.
      </Text>
    </ConfirmModal>
  );
}
