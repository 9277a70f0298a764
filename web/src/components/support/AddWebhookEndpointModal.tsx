import { Alert, Button, Group, Modal, MultiSelect, Radio, Stack, Text, TextInput } from '@mantine/core';
import { IconPlus } from '@tabler/icons-react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, api, fieldError, type WebhookEndpoint } from '../../api.ts';
import { useWebhookEventTypes } from '../../queries.ts';
import { ALL_EVENT_TYPES } from '../../support.ts';

type Scope = 'chosen' | 'all';

/** Whether the text could be an endpoint URL; the API checks the rest and says what is wrong. */
function looksLikeUrl(text: string) {
  return /^https?:\/\/\S+$/i.test(text.trim());
}

/** Add a webhook endpoint (admin): its URL, a note, and the event types it receives. */
export function AddWebhookEndpointModal({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (endpoint: WebhookEndpoint) => void;
}) {
  const queryClient = useQueryClient();
  const eventTypes = useWebhookEventTypes();
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [scope, setScope] = useState<Scope>('chosen');
  const [types, setTypes] = useState<string[]>([]);
  const [touched, setTouched] = useState(false);
  const create = useMutation({
    mutationFn: () =>
      api<WebhookEndpoint>('POST', '/v1/admin/webhook-endpoints', {
        url: url.trim(),
        ...(description.trim() ? { description: description.trim() } : {}),
        events: scope === 'all' ? [ALL_EVENT_TYPES] : types,
      }),
    onSuccess: async (endpoint) => {
      await queryClient.invalidateQueries({ queryKey: ['admin', 'webhook-endpoints'] });
      onCreated(endpoint);
    },
  });
  const urlError =
    touched && !looksLikeUrl(url) ? 'Enter an http:// or https:// URL.' : fieldError(create.error, 'url');
  // The API names the list, or one entry of it (events/0).
  const refusedField = create.error instanceof ApiError ? create.error.field : undefined;
  const typesError =
    touched && scope === 'chosen' && types.length === 0
      ? 'Choose at least one event type.'
      : refusedField?.startsWith('events')
        ? create.error?.message
        : undefined;
  const descriptionError = fieldError(create.error, 'description');
  const otherError = create.error && !urlError && !typesError && !descriptionError;
  const options = (eventTypes.data?.data ?? []).map((entry) => ({ value: entry.type, label: entry.type }));
  const descriptionOf = new Map((eventTypes.data?.data ?? []).map((entry) => [entry.type, entry.description]));

  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Add a webhook endpoint</Text>} centered size="lg">
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          setTouched(true);
          if (looksLikeUrl(url) && (scope === 'all' || types.length > 0)) create.mutate();
        }}
      >
        <Stack gap="md">
          <TextInput
            label="URL"
            description="Tierline POSTs each event here as signed JSON. A 2xx answer within 10 seconds counts as delivered."
            type="url"
            placeholder="https://example.com/webhooks/tierline"
            value={url}
            onChange={(event) => setUrl(event.currentTarget.value)}
            error={urlError}
            maxLength={2048}
            data-autofocus
          />
          <TextInput
            label="Description (optional)"
            description="A note for staff, such as what receives the events."
            value={description}
            onChange={(event) => setDescription(event.currentTarget.value)}
            error={descriptionError}
            maxLength={500}
          />
          <Radio.Group label="Events to send" value={scope} onChange={(value) => setScope(value as Scope)}>
            <Stack gap="xs" mt="xs">
              <Radio value="chosen" label="Only the event types chosen below" />
              <Radio value="all" label="Every event type" description="Types added to Tierline later are sent too." />
            </Stack>
          </Radio.Group>
          {scope === 'chosen' && (
            <MultiSelect
              label="Event types"
              placeholder={types.length === 0 ? 'Choose event types' : undefined}
              data={options}
              value={types}
              onChange={setTypes}
              searchable
              hidePickedOptions
              nothingFoundMessage={eventTypes.isPending ? 'Loading event types…' : 'No such event type'}
              error={typesError ?? (eventTypes.error ? eventTypes.error.message : undefined)}
              maxDropdownHeight={280}
              comboboxProps={{ withinPortal: true }}
              renderOption={({ option }) => (
                <div>
                  <Text size="sm" ff="monospace">
                    {option.value}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {descriptionOf.get(option.value)}
                  </Text>
                </div>
              )}
            />
          )}
          {otherError && (
            <Alert color="red" variant="light" title="The endpoint was not added" role="alert">
              {create.error?.message}
            </Alert>
          )}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose} disabled={create.isPending}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} leftSection={<IconPlus size={16} aria-hidden />}>
              Add endpoint
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
