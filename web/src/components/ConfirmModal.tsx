import { Alert, Button, Group, Modal, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';

/**
 * Asks before something that cannot simply be undone: says what will happen, and shows the API's
 * refusal in its own words if it comes.
 */
export function ConfirmModal({
  opened,
  onClose,
  title,
  children,
  confirmLabel,
  onConfirm,
  isPending,
  error,
  color = 'red',
  isConfirmDisabled = false,
}: {
  opened: boolean;
  onClose: () => void;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  isPending: boolean;
  error: Error | null;
  color?: string;
  isConfirmDisabled?: boolean;
}) {
  return (
    <Modal opened={opened} onClose={onClose} title={<Text fw={700}>{title}</Text>} centered size="lg">
      <Stack gap="md">
        {children}
        {error && (
          <Alert color="red" variant="light" title="Nothing was changed" role="alert">
            {error.message}
          </Alert>
        )}
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onClose} disabled={isPending}>
            Cancel
          </Button>
          <Button color={color} loading={isPending} onClick={onConfirm} disabled={isConfirmDisabled}>
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
