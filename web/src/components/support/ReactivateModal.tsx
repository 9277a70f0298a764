import { Checkbox, List, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type StaffOrgDetail } from '../../api.ts';
import { ConfirmModal } from '../ConfirmModal.tsx';

/** Reactivate a deactivated org (support), optionally giving back what deactivation removed. */
export function ReactivateModal({ detail, onClose }: { detail: StaffOrgDetail; onClose: () => void }) {
  const queryClient = useQueryClient();
  const { org } = detail;
  const [restore, setRestore] = useState(false);
  const reactivate = useMutation({
    mutationFn: () =>
      api('POST', `/v1/admin/orgs/${encodeURIComponent(org.id)}/reactivate`, { restore_memberships: restore }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['admin'] });
      notifications.show({
        color: 'green',
        title: 'Organization reactivated',
        message: `${org.name} is active again.`,
      });
      onClose();
    },
  });
  return (
    <ConfirmModal
      opened
      onClose={onClose}
      title={`Reactivate ${org.name}?`}
      confirmLabel={`Reactivate ${org.name}`}
      color="indigo"
      onConfirm={() => reactivate.mutate()}
      isPending={reactivate.isPending}
      error={reactivate.error}
    >
      <Stack gap="md">
        <List size="sm" spacing={4}>
          <List.Item>It becomes active on the Free plan, and its owner gets the Owner role back.</List.Item>
          <List.Item>
            It gets a new control plane: runtimes registered before stay refused and must be registered again.
          </List.Item>
          <List.Item>
            Reactivating counts as a login, so it has 30 days before inactivity could deactivate it again.
          </List.Item>
          <List.Item>The lock this deactivation put on {org.email} is lifted.</List.Item>
        </List>
        <Checkbox
          label="Restore removed roles and team memberships"
          description="Gives every member back the roles and team places (and system accounts their roles) that deactivation removed. Without it, only the owner gets a role back."
          checked={restore}
          onChange={(event) => setRestore(event.currentTarget.checked)}
        />
        {!restore && (
          <Text size="xs" c="dimmed">
            Members without a role cannot log in until an admin gives them one.
          </Text>
        )}
      </Stack>
    </ConfirmModal>
  );
}
