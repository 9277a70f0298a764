import { Anchor, Badge, Button, Card, Group, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { IconFileTypePdf } from '@tabler/icons-react';
import { useState } from 'react';
import { orgPath } from '../api.ts';
import { INVOICE_STATUS } from '../billing.ts';
import { formatDate, formatMoney, formatPeriod } from '../format.ts';
import { useInvoices } from '../queries.ts';
import { ErrorState, PageLoader } from './States.tsx';

const PAGE = 10;

/** The org's invoices, newest first: number, status, period, total and the PDF. */
export function InvoicesCard({ orgId }: { orgId: string }) {
  const [limit, setLimit] = useState(PAGE);
  const invoices = useInvoices(orgId, limit);
  return (
    <Card withBorder padding="lg" radius="lg" component="section" aria-labelledby="invoices-title">
      <Stack gap="md">
        <Title order={2} size="h3" id="invoices-title">
          Invoices
        </Title>
        {invoices.error ? (
          <ErrorState error={invoices.error} onRetry={() => void invoices.refetch()} />
        ) : !invoices.data ? (
          <PageLoader label="Loading invoices" />
        ) : invoices.data.data.length === 0 ? (
          <Text size="sm" c="dimmed">
            No invoices yet. Paid plans are billed monthly in arrears: the first invoice is calculated three days before
            the first charge.
          </Text>
        ) : (
          <>
            <Table.ScrollContainer minWidth={640}>
              <Table verticalSpacing="sm" highlightOnHover>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">Invoice</Table.Th>
                    <Table.Th scope="col">Status</Table.Th>
                    <Table.Th scope="col">Period</Table.Th>
                    <Table.Th scope="col">Billing date</Table.Th>
                    <Table.Th scope="col" style={{ textAlign: 'right' }}>
                      Total
                    </Table.Th>
                    <Table.Th scope="col">
                      <VisuallyHidden>Document</VisuallyHidden>
                    </Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {invoices.data.data.map((invoice) => {
                    const status = INVOICE_STATUS[invoice.status];
                    return (
                      <Table.Tr key={invoice.id}>
                        <Table.Td>
                          <Text size="sm" fw={600} ff="monospace">
                            {invoice.number}
                          </Text>
                          {invoice.kind === 'final' && (
                            <Text size="xs" c="dimmed">
                              Final invoice
                            </Text>
                          )}
                        </Table.Td>
                        <Table.Td>
                          <Badge color={status.color} variant="dot" size="md">
                            {status.label}
                          </Badge>
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{formatPeriod(invoice.period.start, invoice.period.end)}</Text>
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{formatDate(invoice.billing_at)}</Text>
                        </Table.Td>
                        <Table.Td style={{ textAlign: 'right' }}>
                          <Text size="sm" fw={600}>
                            {formatMoney(invoice.total, invoice.currency)}
                          </Text>
                        </Table.Td>
                        <Table.Td>
                          <Anchor
                            href={orgPath(orgId, `/invoices/${encodeURIComponent(invoice.id)}/pdf`)}
                            target="_blank"
                            rel="noopener"
                            size="sm"
                            aria-label={`Invoice ${invoice.number} as PDF`}
                          >
                            <Group gap={4} wrap="nowrap">
                              <IconFileTypePdf size={16} aria-hidden />
                              PDF
                            </Group>
                          </Anchor>
                        </Table.Td>
                      </Table.Tr>
                    );
                  })}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            {invoices.data.next_cursor && (
              <Group justify="center">
                <Button variant="subtle" loading={invoices.isFetching} onClick={() => setLimit(limit + PAGE)}>
                  Show more invoices
                </Button>
              </Group>
            )}
          </>
        )}
      </Stack>
    </Card>
  );
}
