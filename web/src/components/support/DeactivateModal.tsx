import { List, Radio, Stack, Text, Textarea } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type StaffOrgDetail } from '../../api.ts';
import { PLAN_NAMES } from '../../billing.ts';
import { DEACTIVATION_REASONS, type ReasonCode } from '../../support.ts';
import { ConfirmModal } from '../ConfirmModal.tsx';

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

/** Deactivate an org (support): a reason, and every effect spelled out before the button. */
export function DeactivateModal({ detail, onClose }: { detail: StaffOrgDetail; onClose: () => void }) {
  const queryClient = useQueryClient();
  const { org } = detail;
  const [code, setCode] = useState<ReasonCode | ''>('');
  const [text, setText] = useState('');
  const [touched, setTouched] = useState(false);
  const reason = code === 'other' ? text.trim() : code;
  const deactivate = useMutation({
    mutationFn: () => api('POST', `/v1/admin/orgs/${encodeURIComponent(org.id)}/deactivate`, { reason }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['admin'] });
      notifications.show({ color: 'green', title: 'Organization deactivated', message: `${org.name} is deactivated.` });
      onClose();
    },
  });
  const liveRuntimes = detail.runtimes.filter((runtime) => runtime.state !== 'decommissioned').length;
  const withRoles = detail.members.filter((member) => member.effective_roles.length > 0).length;
  const codeError = touched && !code ? 'Choose why.' : undefined;
  const textError = touched && code === 'other' && !text.trim() ? 'Describe the reason in a sentence.' : undefined;

  return (
    <ConfirmModal
      opened
      onClose={onClose}
      title={`Deactivate ${org.name}?`}
      confirmLabel={`Deactivate ${org.name}`}
      onConfirm={() => {
        setTouched(true);
        if (reason) deactivate.mutate();
      }}
      isPending={deactivate.isPending}
      error={deactivate.error}
    >
      <Stack gap="md">
        <Radio.Group
          label="Reason"
          description="Kept as the deactivation reason and in the audit log, with you as the actor."
          value={code}
          onChange={(value) => setCode(value as ReasonCode)}
          error={codeError}
        >
          <Stack gap="xs" mt="xs">
            {DEACTIVATION_REASONS.map((entry) => (
              <Radio key={entry.value} value={entry.value} label={entry.label} description={entry.description} />
            ))}
          </Stack>
        </Radio.Group>
        {code === 'other' && (
          <Textarea
            label="Describe the reason"
            maxLength={500}
            autosize
            minRows={2}
            value={text}
            onChange={(event) => setText(event.currentTarget.value)}
            error={textError}
            description={`${text.length} of 500 characters`}
          />
        )}
        <div>
          <Text size="sm" fw={600} mb={6}>
            What happens, at once and in one step
          </Text>
          <List size="sm" spacing={4} data-testid="deactivation-effects">
            <List.Item>Nobody can log in to {org.name}: its sessions end, and its API tokens are refused.</List.Item>
            {org.plan !== 'free' && (
              <List.Item>
                The {PLAN_NAMES[org.plan]} subscription ends now as a downgrade: a final invoice is issued and charged
                once; nothing is billed afterwards.
              </List.Item>
            )}
            <List.Item>
              The control plane is decommissioned
              {liveRuntimes > 0
                ? `: its ${plural(liveRuntimes, 'runtime is', 'runtimes are')} refused and answer traffic with 503.`
                : '.'}
            </List.Item>
            <List.Item>
              {withRoles > 0 ? plural(withRoles, 'member loses', 'members lose') : 'Members lose'} every role and team
              place in it; what is removed is kept in the audit log and can be restored at reactivation. Pending
              invitations are revoked.
            </List.Item>
            <List.Item>
              The email {org.email} is locked: no account or organization can be created with it until it is unlocked.
            </List.Item>
            <List.Item>The organization’s email is told.</List.Item>
          </List>
        </div>
      </Stack>
    </ConfirmModal>
  );
}
