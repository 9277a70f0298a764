import { Radio, Stack, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type WebhookEndpoint } from '../../api.ts';
import { ConfirmModal } from '../ConfirmModal.tsx';

const OVERLAPS = [
  {
    value: '0',
    label: 'Stop at once',
    description: 'Receivers with the old secret refuse events until they get the new one.',
  },
  { value: '1', label: 'For 1 hour', description: 'Events carry two signatures meanwhile, old and new.' },
  { value: '24', label: 'For 24 hours', description: 'Events carry two signatures meanwhile, old and new.' },
];

/** Replace an endpoint's signing secret (admin), optionally letting the old one sign a while longer. */
export function RotateSecretModal({
  endpoint,
  onClose,
  onRotated,
}: {
  endpoint: WebhookEndpoint;
  onClose: () => void;
  onRotated: (endpoint: WebhookEndpoint) => void;
}) {
  const queryClient = useQueryClient();
  const [overlap, setOverlap] = useState('0');
  const rotate = useMutation({
    mutationFn: () =>
      api<WebhookEndpoint>('POST', `/v1/admin/webhook-endpoints/${encodeURIComponent(endpoint.id)}/rotate-secret`, {
        overlap_hours: Number(overlap),
      }),
    onSuccess: async (rotated) => {
      await queryClient.invalidateQueries({ queryKey: ['admin', 'webhook-endpoint', endpoint.id] });
      onRotated(rotated);
    },
  });
  return (
    <ConfirmModal
      opened
      onClose={onClose}
      title="Rotate the signing secret?"
      confirmLabel="Rotate secret"
      color="indigo"
      onConfirm={() => rotate.mutate()}
      isPending={rotate.isPending}
      error={rotate.error}
    >
      <Stack gap="md">
        <Text size="sm">
          A new secret signs every event from now on. You see it once, next, to give to the receiver.
        </Text>
        <Radio.Group label="The old secret keeps signing" value={overlap} onChange={setOverlap}>
          <Stack gap="xs" mt="xs">
            {OVERLAPS.map((entry) => (
              <Radio key={entry.value} value={entry.value} label={entry.label} description={entry.description} />
            ))}
          </Stack>
        </Radio.Group>
      </Stack>
    </ConfirmModal>
  );
}
