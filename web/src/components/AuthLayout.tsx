import { Box, Center, Paper, Stack, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { Brand } from './Brand.tsx';
import { TestClockBar } from './TestClockBar.tsx';

/** The frame of the pages before a session: the brand, a card, and the test clock when it is on. */
export function AuthLayout({
  title,
  subtitle,
  children,
  footer,
}: {
  title: string;
  subtitle?: ReactNode;
  children: ReactNode;
  footer?: ReactNode;
}) {
  return (
    <Box mih="100vh" p={{ base: 'sm', sm: 'xl' }}>
      <Box maw={1120} mx="auto">
        <TestClockBar />
      </Box>
      <Center component="main" id="main" py={{ base: 'lg', sm: 48 }}>
        <Stack w="100%" maw={440} gap="lg">
          <Center>
            <Brand />
          </Center>
          <Paper withBorder shadow="sm" p={{ base: 'lg', sm: 'xl' }} radius="lg">
            <Stack gap="lg">
              <div>
                <Title order={1} size="h2">
                  {title}
                </Title>
                {subtitle && (
                  <Text c="dimmed" size="sm" mt={4}>
                    {subtitle}
                  </Text>
                )}
              </div>
              {children}
            </Stack>
          </Paper>
          {footer && (
            <Text ta="center" size="sm" c="dimmed">
              {footer}
            </Text>
          )}
        </Stack>
      </Center>
    </Box>
  );
}
