import { Alert, Button, Group, MultiSelect, Radio, Stack, Text, TextInput } from '@mantine/core';
import { type ReactNode, useState } from 'react';
import { ApiError, fieldError, type WebhookEndpoint } from '../../api.ts';
import { useWebhookEventTypes } from '../../queries.ts';
import { ALL_EVENT_TYPES, isAllEventTypes } from '../../support.ts';

type Scope = 'chosen' | 'all';

/** What the form holds: the URL and note as typed, and the event types as chosen. */
export interface WebhookEndpointValues {
  url: string;
  description: string;
  scope: Scope;
  types: string[];
}

export const NEW_ENDPOINT_VALUES: WebhookEndpointValues = { url: '', description: '', scope: 'chosen', types: [] };

/** The form's values for an existing endpoint. */
export function valuesOf(endpoint: WebhookEndpoint): WebhookEndpointValues {
  const isAll = isAllEventTypes(endpoint.events);
  return {
    url: endpoint.url,
    description: endpoint.description ?? '',
    scope: isAll ? 'all' : 'chosen',
    types: isAll ? [] : endpoint.events,
  };
}

/** The event types to send to the API: `*` for every type, else the chosen ones. */
export function eventsOf(values: WebhookEndpointValues): string[] {
  return values.scope === 'all' ? [ALL_EVENT_TYPES] : values.types;
}

/** Whether the text could be an endpoint URL; the API checks the rest and says what is wrong. */
function looksLikeUrl(text: string) {
  return /^https?:\/\/\S+$/i.test(text.trim());
}

/**
 * An endpoint's URL, note and event types, as adding and editing one share them: says what is missing
 * before anything is sent, and shows the API's refusal at the field it names.
 */
export function WebhookEndpointForm({
  initialValues,
  onSubmit,
  onCancel,
  isPending,
  error,
  submitLabel,
  submitIcon,
  failureTitle,
}: {
  initialValues: WebhookEndpointValues;
  /** Called with complete values (a URL, and at least one event type). */
  onSubmit: (values: WebhookEndpointValues) => void;
  onCancel: () => void;
  isPending: boolean;
  error: Error | null;
  submitLabel: string;
  submitIcon: ReactNode;
  /** The title of a refusal that names no field. */
  failureTitle: string;
}) {
  const eventTypes = useWebhookEventTypes();
  const [values, setValues] = useState(initialValues);
  const [touched, setTouched] = useState(false);
  // The values last sent: the API's refusal of a field is shown until that field is changed.
  const [sent, setSent] = useState<WebhookEndpointValues | null>(null);
  const change = (changes: Partial<WebhookEndpointValues>) => setValues((current) => ({ ...current, ...changes }));
  const { url, description, scope, types } = values;

  const urlError =
    touched && !looksLikeUrl(url)
      ? 'Enter an http:// or https:// URL.'
      : url === sent?.url
        ? fieldError(error, 'url')
        : undefined;
  // The API names the list, or one entry of it (events/0).
  const refusedField = error instanceof ApiError ? error.field : undefined;
  const isSameEvents = scope === sent?.scope && types === sent.types;
  const typesError =
    touched && scope === 'chosen' && types.length === 0
      ? 'Choose at least one event type.'
      : refusedField?.startsWith('events') && isSameEvents
        ? error?.message
        : undefined;
  const descriptionError = description === sent?.description ? fieldError(error, 'description') : undefined;
  const isFieldError = refusedField === 'url' || refusedField === 'description' || refusedField?.startsWith('events');
  const otherError = error && !isFieldError;
  const options = (eventTypes.data?.data ?? []).map((entry) => ({ value: entry.type, label: entry.type }));
  const descriptionOf = new Map((eventTypes.data?.data ?? []).map((entry) => [entry.type, entry.description]));

  return (
    <form
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        setTouched(true);
        if (looksLikeUrl(url) && (scope === 'all' || types.length > 0)) {
          setSent(values);
          onSubmit(values);
        }
      }}
    >
      <Stack gap="md">
        <TextInput
          label="URL"
          description="Tierline POSTs each event here as signed JSON. A 2xx answer within 10 seconds counts as delivered."
          type="url"
          placeholder="https://example.com/webhooks/tierline"
          value={url}
          onChange={(event) => change({ url: event.currentTarget.value })}
          error={urlError}
          maxLength={2048}
          data-autofocus
        />
        <TextInput
          label="Description (optional)"
          description="A note for staff, such as what receives the events."
          value={description}
          onChange={(event) => change({ description: event.currentTarget.value })}
          error={descriptionError}
          maxLength={500}
        />
        <Radio.Group label="Events to send" value={scope} onChange={(value) => change({ scope: value as Scope })}>
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
            onChange={(chosen) => change({ types: chosen })}
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
          <Alert color="red" variant="light" title={failureTitle} role="alert">
            {error?.message}
          </Alert>
        )}
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={onCancel} disabled={isPending}>
            Cancel
          </Button>
          <Button type="submit" loading={isPending} leftSection={submitIcon}>
            {submitLabel}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
