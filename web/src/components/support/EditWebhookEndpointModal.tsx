import { Modal, Text } from '@mantine/core';
import { IconDeviceFloppy } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { updateWebhookEndpoint, type WebhookEndpoint, type WebhookEndpointChanges } from '../../api.ts';
import { eventsOf, valuesOf, WebhookEndpointForm, type WebhookEndpointValues } from './WebhookEndpointForm.tsx';

/** What the form changes of the endpoint: only those fields are sent, so the audit log shows the change. */
function changesOf(endpoint: WebhookEndpoint, values: WebhookEndpointValues): WebhookEndpointChanges {
  const changes: WebhookEndpointChanges = {};
  const url = values.url.trim();
  if (url !== endpoint.url) changes.url = url;
  const description = values.description.trim();
  if (description !== (endpoint.description ?? '')) changes.description = description;
  const events = eventsOf(values);
  const isSameEvents =
    events.length === endpoint.events.length && events.every((type) => endpoint.events.includes(type));
  if (!isSameEvents) changes.events = events;
  return changes;
}

/** Change a webhook endpoint's URL, note and event types (admin); the form starts from what it has now. */
export function EditWebhookEndpointModal({
  endpoint,
  onClose,
  onSaved,
}: {
  endpoint: WebhookEndpoint;
  onClose: () => void;
  onSaved: (endpoint: WebhookEndpoint) => void;
}) {
  const queryClient = useQueryClient();
  const save = useMutation({
    mutationFn: (changes: WebhookEndpointChanges) => updateWebhookEndpoint(endpoint.id, changes),
    onSuccess: async (saved) => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: ['admin', 'webhook-endpoint', endpoint.id] }),
        queryClient.invalidateQueries({ queryKey: ['admin', 'webhook-endpoints'] }),
      ]);
      onSaved(saved);
    },
  });

  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Edit the webhook endpoint</Text>} centered size="lg">
      <WebhookEndpointForm
        initialValues={valuesOf(endpoint)}
        onSubmit={(values) => {
          const changes = changesOf(endpoint, values);
          if (Object.keys(changes).length === 0) onClose();
          else save.mutate(changes);
        }}
        onCancel={onClose}
        isPending={save.isPending}
        error={save.error}
        submitLabel="Save changes"
        submitIcon={<IconDeviceFloppy size={16} aria-hidden />}
        failureTitle="The endpoint was not changed"
      />
    </Modal>
  );
}
