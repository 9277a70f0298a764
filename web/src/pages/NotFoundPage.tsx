import { Button, Stack, Text, Title } from '@mantine/core';
import { useEffect } from 'react';
import { Link } from 'react-router';

export function NotFoundPage() {
  useEffect(() => {
    document.title = 'Page not found · Tierline';
  }, []);
  return (
    <Stack gap="md" align="flex-start" py="xl">
      <Title order={1}>Page not found</Title>
      <Text c="dimmed">There is no page at this address.</Text>
      <Button component={Link} to="/" variant="default">
        Go to the start page
      </Button>
    </Stack>
  );
}
