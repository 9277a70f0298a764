import { Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { ConfirmModal } from '../ConfirmModal.tsx';

/** Lift every lock on an email (support): it can sign up and create organizations again. */
export function UnlockEmailModal({ email, onClose }: { email: string; onClose: () => void }) {
  const queryClient = useQueryClient();
  const unlock = useMutation({
    mutationFn: () => api<{ email: string }>('DELETE', `/v1/admin/email-locks/${encodeURIComponent(email)}`),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['admin'] });
      notifications.show({ color: 'green', title: 'Email unlocked', message: `${email} can sign up again.` });
      onClose();
    },
  });
  return (
    <ConfirmModal
      opened
      onClose={onClose}
      title={`Unlock ${email}?`}
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
