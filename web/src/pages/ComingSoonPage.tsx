import { Anchor, Card, Stack, Text, ThemeIcon, Title } from '@mantine/core';
import { IconClock } from '@tabler/icons-react';
import { useEffect } from 'react';

/** A section whose pages are not built yet: says so, without pretending with made-up data. */
export function ComingSoonPage({ title, text }: { title: string; text: string }) {
  useEffect(() => {
    document.title = `${title} · Tierline`;
  }, [title]);
  return (
    <Stack gap="lg">
      <Title order={1}>{title}</Title>
      <Card withBorder padding="xl" radius="lg">
        <Stack align="center" gap="sm" py="xl">
          <ThemeIcon size={48} radius="xl" variant="light" color="gray">
            <IconClock size={28} aria-hidden />
          </ThemeIcon>
          <Title order={2} size="h4">
            Coming soon
          </Title>
          <Text size="sm" c="dimmed" ta="center" maw={460}>
            {text} Until then, the same operations are available through the API: see the{' '}
            <Anchor href="/docs" size="sm" underline="always">
              API reference
            </Anchor>
            .
          </Text>
        </Stack>
      </Card>
    </Stack>
  );
}
