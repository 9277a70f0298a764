import { Modal, Text } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, type WebhookEndpoint } from '../../api.ts';
import {
  eventsOf,
  NEW_ENDPOINT_VALUES,
  WebhookEndpointForm,
  type WebhookEndpointValues,
} from './WebhookEndpointForm.tsx';

/** Add a webhook endpoint (admin): its URL, a note, and the event types it receives. */
export function AddWebhookEndpointModal({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (endpoint: WebhookEndpoint) => void;
}) {
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: (values: WebhookEndpointValues) =>
      api<WebhookEndpoint>('POST', '/v1/admin/webhook-endpoints', {
        url: values.url.trim(),
        ...(values.description.trim() ? { description: values.description.trim() } : {}),
        events: eventsOf(values),
      }),
    onSuccess: async (endpoint) => {
      await queryClient.invalidateQueries({ queryKey: ['admin', 'webhook-endpoints'] });
      onCreated(endpoint);
    },
  });

  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Add a webhook endpoint</Text>} centered size="lg">
      <WebhookEndpointForm
        initialValues={NEW_ENDPOINT_VALUES}
        onSubmit={(values) => create.mutate(values)}
        onCancel={onClose}
        isPending={create.isPending}
        error={create.error}
        submitLabel="Add endpoint"
        submitIcon={<IconPlus size={16} aria-hidden />}
        failureTitle="The endpoint was not added"
      />
    </Modal>
  );
}
