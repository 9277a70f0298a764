import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { pdfText } from '../../../tests/helpers/pdf-text.ts';
import { formatMoney } from '../../kernel/money.ts';
import { type InvoicePdfData, renderInvoicePdf, SELLER } from './invoice-pdf.ts';

const invoice: InvoicePdfData['invoice'] = {
  number: 'TL-000042',
  kind: 'cycle',
  status: 'paid',
  currency: 'usd',
  collection: 'charge_automatically',
  periodStart: new Date('2027-01-31T08:30:00.000Z'),
  periodEnd: new Date('2027-02-28T08:30:00.000Z'),
  calculatedAt: new Date('2027-02-25T08:30:00.000Z'),
  billingAt: new Date('2027-02-28T08:30:00.000Z'),
  dueAt: new Date('2027-02-28T08:30:00.000Z'),
  paidAt: new Date('2027-02-28T08:30:00.000Z'),
  voidedAt: null,
  total: 1_234_567n,
};

const lines: InvoicePdfData['lines'] = [
  { description: 'Plus plan, monthly fee', quantity: 1n, amount: 10_000n },
  {
    description: 'API requests: 612,283,350 (1,000,000 included, 611,283,350 billed)',
    quantity: 612_283_350n,
    amount: 1_224_567n,
  },
];

const card: InvoicePdfData['paymentMethod'] = {
  brand: 'visa',
  last4: '4242',
  expMonth: 12,
  expYear: 2030,
  billingDetails: {
    name: 'Jeanne Dupont',
    email: 'accounts@acme.example',
    address: { line1: '12 rue de Rivoli', city: 'Paris', postal_code: '75001', country: 'FR' },
  },
};

const sample: InvoicePdfData = {
  invoice,
  lines,
  organization: { name: 'Acme Rockets', email: 'owner@acme.example' },
  paymentMethod: card,
};

/** The shown text with every run of whitespace as one space, so wrapped lines read as one. */
async function textOf(data: InvoicePdfData) {
  const bytes = await renderInvoicePdf(data);
  return { bytes, text: pdfText(bytes).replace(/\s+/g, ' ') };
}

describe('renderInvoicePdf', () => {
  it('renders a PDF with the number, seller, buyer, dates, lines, total and the card it was paid with', async () => {
    const { bytes, text } = await textOf(sample);
    expect(Buffer.from(bytes.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    expect((await PDFDocument.load(bytes)).getPageCount()).toBe(1);
    expect(text).toContain('INVOICE');
    expect(text).toContain('TL-000042');
    expect(text).toContain(SELLER.name);
    for (const line of SELLER.address) expect(text).toContain(line);
    expect(text).toContain('Acme Rockets');
    expect(text).toContain('Jeanne Dupont');
    expect(text).toContain('accounts@acme.example');
    expect(text).toContain('12 rue de Rivoli');
    expect(text).toContain('75001 Paris');
    expect(text).toContain('France');
    expect(text).not.toContain('owner@acme.example');
    expect(text).toContain('Issue date 25 Feb 2027');
    expect(text).toContain('Charge date 28 Feb 2027');
    expect(text).toContain('Due date 28 Feb 2027');
    expect(text).toContain('31 Jan 2027, 08:30 UTC to 28 Feb 2027, 08:30 UTC');
    for (const line of lines) {
      expect(text).toContain(line.description);
      expect(text).toContain(formatMoney(line.amount, 'usd'));
    }
    expect(text).toContain('612,283,350');
    expect(formatMoney(invoice.total, 'usd')).toBe('USD 12,345.67');
    expect(text).toContain('Total (USD) USD 12,345.67');
    expect(text).toContain('Amount paid USD 12,345.67');
    expect(text).toContain('PAID');
    expect(text).toContain('Paid on 28 Feb 2027 with Visa ending in 4242.');
  });

  it('bills the org email and asks for a bank transfer by the due date when paid by transfer', async () => {
    const { text } = await textOf({
      ...sample,
      invoice: {
        ...invoice,
        status: 'open',
        collection: 'send_invoice',
        dueAt: new Date('2027-03-30T08:30:00.000Z'),
        paidAt: null,
      },
      paymentMethod: null,
    });
    expect(text).toContain('owner@acme.example');
    expect(text).toContain('Billing date 28 Feb 2027');
    expect(text).toContain('Due date 30 Mar 2027');
    expect(text).toContain('USD 12,345.67 due 30 Mar 2027');
    expect(text).toContain('Amount due USD 12,345.67');
    expect(text).toContain('Pay USD 12,345.67 by bank transfer by 30 Mar 2027');
    expect(text).toContain('quote TL-000042 as the payment reference');
    expect(text).toContain('OPEN');
    expect(text).not.toContain('PAID');
  });

  it('says when an open invoice will be charged to the card', async () => {
    const { text } = await textOf({ ...sample, invoice: { ...invoice, status: 'open', paidAt: null } });
    expect(text).toContain('USD 12,345.67 will be charged to Visa ending in 4242 (expires 12/2030) on 28 Feb 2027.');
  });

  it('stamps a voided invoice VOID with nothing due', async () => {
    const { text } = await textOf({
      ...sample,
      invoice: { ...invoice, kind: 'cycle', status: 'void', paidAt: null, voidedAt: new Date('2027-02-26T00:00:00Z') },
    });
    expect(text).toContain('VOID');
    expect(text).toContain('Amount due USD 0.00');
    expect(text).toContain('voided on 26 Feb 2027. Nothing is due.');
  });

  it('keeps accented Latin text and replaces what the standard fonts cannot show instead of failing', async () => {
    const { text } = await textOf({ ...sample, organization: { name: 'Société Générale 東京', email: 'x@y.example' } });
    expect(text).toContain('Société Générale ??');
  });

  it('continues a long invoice on further pages, numbered, with every line', async () => {
    const many = Array.from({ length: 60 }, (_, index) => ({
      description: `Line ${index + 1} of a long invoice`,
      quantity: BigInt(index + 1),
      amount: 100n,
    }));
    const { bytes, text } = await textOf({ ...sample, lines: many, invoice: { ...invoice, total: 6_000n } });
    const pages = (await PDFDocument.load(bytes)).getPageCount();
    expect(pages).toBeGreaterThan(1);
    expect(text).toContain(`Page ${pages} of ${pages}`);
    for (const line of many) expect(text).toContain(`${line.description} `);
    expect(text).toContain('Total (USD) USD 60.00');
  });

  it('renders the same bytes for the same invoice', async () => {
    expect(Buffer.from(await renderInvoicePdf(sample)).equals(Buffer.from(await renderInvoicePdf(sample)))).toBe(true);
  });
});
