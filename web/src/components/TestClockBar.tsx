import { Badge, Button, Group, Paper, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconClock, IconPlayerTrackNext } from '@tabler/icons-react';
import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, type TestClock } from '../api.ts';
import { formatDateTime } from '../format.ts';
import { useTestClock } from '../queries.ts';

const HOUR = 3_600_000;
const STEPS = [
  { label: '+1 hour', ms: HOUR },
  { label: '+1 day', ms: 24 * HOUR },
  { label: '+7 days', ms: 7 * 24 * HOUR },
];

/** "2026-11-22T10:00" in the reader's zone, for a datetime-local input. */
function toLocalInput(date: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * With the server on its test clock: the simulated time and controls to move it forward. Advancing
 * runs all work that falls due (invoices, charges, deactivations), then every page's data is reloaded.
 */
export function TestClockBar() {
  const clock = useTestClock().data;
  const queryClient = useQueryClient();
  const [target, setTarget] = useState('');
  const [busy, setBusy] = useState<string | null>(null);
  if (!clock) return null;
  const now = new Date(clock.now);

  const advance = async (to: Date, label: string) => {
    setBusy(label);
    try {
      const result = await api<TestClock & { processed: number; failed: number }>('POST', '/v1/test-clock/advance', {
        to: to.toISOString(),
      });
      await queryClient.invalidateQueries();
      notifications.show({
        color: 'yellow',
        title: 'Test clock advanced',
        message: `Now ${formatDateTime(result.now)}. ${result.processed} scheduled item${result.processed === 1 ? '' : 's'} processed${result.failed ? `, ${result.failed} failed` : ''}.`,
      });
      setTarget('');
    } catch (error) {
      notifications.show({
        color: 'red',
        title: 'The clock did not move',
        message: error instanceof Error ? error.message : 'Try again.',
      });
    } finally {
      setBusy(null);
    }
  };

  const submitTarget = (event: FormEvent) => {
    event.preventDefault();
    const to = new Date(target);
    if (!target || Number.isNaN(to.getTime())) return;
    void advance(to, 'to');
  };

  return (
    <Paper
      component="section"
      aria-label="Test clock"
      withBorder
      px="md"
      py="xs"
      style={{ borderColor: 'var(--mantine-color-yellow-5)', background: 'var(--mantine-color-yellow-0)' }}
    >
      <Group justify="space-between" gap="sm" wrap="wrap">
        <Group gap="sm" wrap="nowrap">
          <Badge
            color="yellow.5"
            autoContrast
            variant="filled"
            size="sm"
            leftSection={<IconClock size={12} aria-hidden />}
            style={{ flexShrink: 0 }}
          >
            Test clock
          </Badge>
          <Text size="sm">
            <VisuallyHidden>Simulated time: </VisuallyHidden>
            <Text span fw={700} data-testid="simulated-time">
              <time dateTime={clock.now}>{formatDateTime(clock.now)}</time>
            </Text>
          </Text>
        </Group>
        <Group gap={6} wrap="wrap">
          {STEPS.map((step) => (
            <Button
              key={step.label}
              size="compact-sm"
              variant="default"
              loading={busy === step.label}
              disabled={busy !== null && busy !== step.label}
              onClick={() => void advance(new Date(now.getTime() + step.ms), step.label)}
            >
              {step.label}
            </Button>
          ))}
          <Group component="form" gap={6} wrap="nowrap" onSubmit={submitTarget}>
            <TextInput
              type="datetime-local"
              size="xs"
              aria-label="Advance the test clock to"
              value={target}
              min={toLocalInput(now)}
              onChange={(event) => setTarget(event.currentTarget.value)}
              w={178}
            />
            <Button
              type="submit"
              size="compact-sm"
              color="yellow.5"
              autoContrast
              leftSection={<IconPlayerTrackNext size={14} aria-hidden />}
              loading={busy === 'to'}
              disabled={!target || (busy !== null && busy !== 'to')}
            >
              Advance
            </Button>
          </Group>
        </Group>
      </Group>
    </Paper>
  );
}
