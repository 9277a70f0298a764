import { Badge, Group, Text, Tooltip } from '@mantine/core';
import type { WebhookDelivery } from '../../api.ts';
import { deliveryState, isAllEventTypes } from '../../support.ts';

export function EndpointStateBadge({ enabled }: { enabled: boolean }) {
  return (
    <Badge color={enabled ? 'green' : 'gray'} variant="dot" tt="none" size="md">
      {enabled ? 'Enabled' : 'Disabled'}
    </Badge>
  );
}

/** The event types an endpoint receives: "All events", or each type (the first `max`, then how many more). */
export function EventTypeBadges({ events, max }: { events: readonly string[]; max?: number }) {
  if (isAllEventTypes(events)) {
    return (
      <Badge variant="light" color="indigo" tt="none">
        All events
      </Badge>
    );
  }
  const shown = max === undefined ? events : events.slice(0, max);
  const hidden = events.length - shown.length;
  return (
    <Group gap={4}>
      {shown.map((type) => (
        <Badge key={type} variant="light" color="gray" tt="none" ff="monospace" fw={500}>
          {type}
        </Badge>
      ))}
      {hidden > 0 && (
        <Text size="xs" c="dimmed" title={events.slice(shown.length).join(', ')}>
          +{hidden} more
        </Text>
      )}
    </Group>
  );
}

export function DeliveryStateBadge({ delivery }: { delivery: Pick<WebhookDelivery, 'status' | 'attempt_count'> }) {
  const state = deliveryState(delivery);
  return (
    <Tooltip label={state.description} withArrow multiline w={260}>
      <Badge color={state.color} variant="light" tt="none" size="md">
        {state.label}
      </Badge>
    </Tooltip>
  );
}
