import { Alert, Button, Code, CopyButton, Group, Modal, Stack, Text } from '@mantine/core';
import { IconCheck, IconCopy, IconKey } from '@tabler/icons-react';
import type { WebhookEndpoint } from '../../api.ts';
import { formatDateTime } from '../../format.ts';

/**
 * An endpoint's signing secret, right after it was made (creation or rotation), with a copy button:
 * the console shows it this once, so it goes straight to the receiver's configuration.
 */
export function WebhookSecretModal({
  endpoint,
  title,
  onClose,
}: {
  endpoint: WebhookEndpoint;
  title: string;
  onClose: () => void;
}) {
  const secret = endpoint.secret ?? '';
  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>{title}</Text>} centered size="lg">
      <Stack gap="md">
        <Text size="sm">
          Tierline signs every event it sends to{' '}
          <Text span ff="monospace" style={{ overflowWrap: 'anywhere' }}>
            {endpoint.url}
          </Text>{' '}
          with this secret, in the <Code>Tierline-Signature</Code> header. The receiver checks the signature with it.
        </Text>
        <Stack gap={6}>
          <Text size="sm" fw={600} id="webhook-secret-label">
            Signing secret
          </Text>
          <Group gap="sm" wrap="nowrap" align="center">
            <Code
              aria-labelledby="webhook-secret-label"
              data-testid="webhook-secret"
              fz="sm"
              style={{ flex: 1, overflowWrap: 'anywhere', padding: '8px 10px' }}
            >
              {secret}
            </Code>
            <CopyButton value={secret} timeout={3000}>
              {({ copied, copy }) => (
                <Button
                  leftSection={copied ? <IconCheck size={16} aria-hidden /> : <IconCopy size={16} aria-hidden />}
                  onClick={copy}
                  style={{ flexShrink: 0 }}
                >
                  {copied ? 'Copied' : 'Copy secret'}
                </Button>
              )}
            </CopyButton>
          </Group>
        </Stack>
        {endpoint.previous_secret_expires_at && (
          <Text size="sm">
            The old secret also signs until {formatDateTime(endpoint.previous_secret_expires_at)}, so the receiver can
            switch without missing an event.
          </Text>
        )}
        <Alert color="yellow" variant="light" icon={<IconKey aria-hidden />} title="Copy it now">
          This page shows the secret only this once. Keep it with the receiver, like a password; if it is lost, rotate
          the secret.
        </Alert>
        <Group justify="flex-end">
          <Button onClick={onClose} data-autofocus>
            Done
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
