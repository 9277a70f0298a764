import { type Color, degrees, PDFDocument, type PDFFont, type PDFPage, rgb, StandardFonts } from 'pdf-lib';
import { formatMoney } from '../../kernel/money.ts';
import type { OrgRecord } from '../organizations/index.ts';
import type { BillingDetails } from './add-payment-method.ts';
import type { InvoiceRow, LineRow, PaymentMethodRow } from './billing.repo.ts';

/** Who issues every invoice. One fixed block: operators put their legal name and address here. */
export const SELLER = {
  name: 'Tierline',
  address: ['Tierline Inc.', '100 Market Street, Suite 300', 'San Francisco, CA 94105', 'United States'],
  email: 'billing@tierline.local',
} as const;

export interface InvoicePdfData {
  invoice: Pick<
    InvoiceRow,
    | 'number'
    | 'kind'
    | 'status'
    | 'currency'
    | 'collection'
    | 'periodStart'
    | 'periodEnd'
    | 'calculatedAt'
    | 'billingAt'
    | 'dueAt'
    | 'paidAt'
    | 'voidedAt'
    | 'total'
  >;
  lines: readonly Pick<LineRow, 'description' | 'quantity' | 'amount'>[];
  organization: Pick<OrgRecord, 'name' | 'email'>;
  /** The subscription's payment method, if it has one. */
  paymentMethod?: Pick<PaymentMethodRow, 'brand' | 'last4' | 'expMonth' | 'expYear' | 'billingDetails'> | null;
}

// A4 in points, and the layout grid.
const PAGE_WIDTH = 595.28;
const PAGE_HEIGHT = 841.89;
const MARGIN = 50;
const RIGHT = PAGE_WIDTH - MARGIN;
const FOOTER_Y = 36;
const QUANTITY_RIGHT = 420;
const DESCRIPTION_WIDTH = 280;

const INK = rgb(0.12, 0.13, 0.16);
const MUTED = rgb(0.42, 0.45, 0.5);
const RULE = rgb(0.85, 0.87, 0.9);
const SHADE = rgb(0.95, 0.96, 0.97);
const ACCENT = rgb(0.15, 0.32, 0.72);

const STAMPS: Record<string, { label: string; color: Color }> = {
  paid: { label: 'PAID', color: rgb(0.1, 0.55, 0.3) },
  open: { label: 'OPEN', color: ACCENT },
  past_due: { label: 'PAST DUE', color: rgb(0.8, 0.15, 0.15) },
  uncollectible: { label: 'UNCOLLECTIBLE', color: rgb(0.8, 0.15, 0.15) },
  void: { label: 'VOID', color: rgb(0.45, 0.45, 0.45) },
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const BRANDS: Record<string, string> = { visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express' };

/** "1 Feb 2027", in UTC like every instant in Tierline. */
function formatDate(at: Date): string {
  return `${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]} ${at.getUTCFullYear()}`;
}

/** "1 Feb 2027, 08:30 UTC". */
function formatDateTime(at: Date): string {
  const time = `${String(at.getUTCHours()).padStart(2, '0')}:${String(at.getUTCMinutes()).padStart(2, '0')}`;
  return `${formatDate(at)}, ${time} UTC`;
}

const formatCount = (value: bigint) => value.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');

function countryName(code: string): string {
  try {
    return new Intl.DisplayNames(['en'], { type: 'region' }).of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

/** The stored billing details when they have the expected shape (the column is free-form JSON). */
function billingDetailsOf(value: unknown): BillingDetails | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const details = value as Partial<BillingDetails>;
  const address = details.address;
  if (typeof details.name !== 'string' || typeof details.email !== 'string') return undefined;
  if (!address || typeof address.line1 !== 'string' || typeof address.city !== 'string') return undefined;
  return details as BillingDetails;
}

function cardName(method: NonNullable<InvoicePdfData['paymentMethod']>): string {
  const brand = BRANDS[method.brand] ?? method.brand.charAt(0).toUpperCase() + method.brand.slice(1);
  return `${brand} ending in ${method.last4}`;
}

/** How the invoice is paid or was paid, in sentences for the customer. */
function paymentText(data: InvoicePdfData): string[] {
  const { invoice, paymentMethod } = data;
  const amount = formatMoney(invoice.total, invoice.currency);
  if (invoice.status === 'void') {
    return [`This invoice was voided on ${formatDate(invoice.voidedAt ?? invoice.calculatedAt)}. Nothing is due.`];
  }
  if (invoice.collection === 'send_invoice') {
    if (invoice.status === 'paid') {
      return [`Paid by bank transfer on ${formatDate(invoice.paidAt ?? invoice.dueAt)}.`];
    }
    return [
      `Pay ${amount} by bank transfer by ${formatDate(invoice.dueAt)}, to the account named in your contract.`,
      `Please quote ${invoice.number} as the payment reference.`,
    ];
  }
  const card = paymentMethod ? cardName(paymentMethod) : undefined;
  if (invoice.status === 'paid') {
    const when = formatDate(invoice.paidAt ?? invoice.billingAt);
    if (invoice.total === 0n) return [`Nothing to pay. Settled on ${when}.`];
    return [card ? `Paid on ${when} with ${card}.` : `Paid on ${when}.`];
  }
  if (!paymentMethod || !card) {
    return [`No payment method is on file. Add a card to pay ${amount}.`];
  }
  const expiry = `expires ${String(paymentMethod.expMonth).padStart(2, '0')}/${paymentMethod.expYear}`;
  if (invoice.status === 'past_due') {
    return [`Charging ${card} failed; it will be retried.`, 'Update your payment method to pay it now.'];
  }
  if (invoice.status === 'uncollectible') {
    return [`${amount} could not be collected from ${card}.`];
  }
  return [`${amount} will be charged to ${card} (${expiry}) on ${formatDate(invoice.billingAt)}.`];
}

/** Draws text in the standard fonts, which cover WinAnsi only: anything else becomes "?". */
class Writer {
  private readonly supported = new Map<PDFFont, Set<number>>();
  page: PDFPage;
  readonly regular: PDFFont;
  readonly bold: PDFFont;
  private readonly document: PDFDocument;

  constructor(document: PDFDocument, regular: PDFFont, bold: PDFFont) {
    this.document = document;
    this.regular = regular;
    this.bold = bold;
    this.page = document.addPage([PAGE_WIDTH, PAGE_HEIGHT]);
  }

  addPage() {
    this.page = this.document.addPage([PAGE_WIDTH, PAGE_HEIGHT]);
  }

  clean(text: string, font: PDFFont): string {
    let charset = this.supported.get(font);
    if (!charset) {
      charset = new Set(font.getCharacterSet());
      this.supported.set(font, charset);
    }
    let out = '';
    for (const char of text.normalize('NFC').replace(/\s+/g, ' ')) {
      out += charset.has(char.codePointAt(0)!) ? char : '?';
    }
    return out;
  }

  width(text: string, size: number, font = this.regular): number {
    return font.widthOfTextAtSize(this.clean(text, font), size);
  }

  text(text: string, x: number, y: number, options: { size?: number; font?: PDFFont; color?: Color } = {}) {
    const font = options.font ?? this.regular;
    this.page.drawText(this.clean(text, font), {
      x,
      y,
      size: options.size ?? 10,
      font,
      color: options.color ?? INK,
    });
  }

  /** Text whose right edge is at `right`. */
  textRight(text: string, right: number, y: number, options: { size?: number; font?: PDFFont; color?: Color } = {}) {
    const width = this.width(text, options.size ?? 10, options.font ?? this.regular);
    this.text(text, right - width, y, options);
  }

  /** Splits text into lines no wider than `maxWidth`, breaking inside words only when one is too long. */
  wrap(text: string, size: number, maxWidth: number, font = this.regular): string[] {
    const lines: string[] = [];
    let current = '';
    for (const word of this.clean(text, font).split(' ')) {
      const candidate = current ? `${current} ${word}` : word;
      if (font.widthOfTextAtSize(candidate, size) <= maxWidth) {
        current = candidate;
        continue;
      }
      if (current) lines.push(current);
      current = '';
      for (const char of word) {
        if (font.widthOfTextAtSize(current + char, size) > maxWidth && current) {
          lines.push(current);
          current = '';
        }
        current += char;
      }
    }
    if (current || lines.length === 0) lines.push(current);
    return lines;
  }

  rule(y: number, from = MARGIN, to = RIGHT, color: Color = RULE, thickness = 0.75) {
    this.page.drawLine({ start: { x: from, y }, end: { x: to, y }, thickness, color });
  }
}

function drawStamp(writer: Writer, status: string, x: number, y: number) {
  const stamp = STAMPS[status] ?? { label: status.replace(/_/g, ' ').toUpperCase(), color: MUTED };
  const size = 20;
  const paddingX = 12;
  const paddingY = 8;
  const width = writer.width(stamp.label, size, writer.bold) + 2 * paddingX;
  const height = size * 0.72 + 2 * paddingY;
  const angle = 12;
  const radians = (angle * Math.PI) / 180;
  writer.page.drawRectangle({
    x,
    y,
    width,
    height,
    rotate: degrees(angle),
    borderColor: stamp.color,
    borderWidth: 2.5,
    borderOpacity: 0.85,
  });
  // The label's baseline, offset inside the box and turned with it around the box's corner.
  const cos = Math.cos(radians);
  const sin = Math.sin(radians);
  writer.page.drawText(writer.clean(stamp.label, writer.bold), {
    x: x + paddingX * cos - paddingY * sin,
    y: y + paddingX * sin + paddingY * cos,
    size,
    font: writer.bold,
    color: stamp.color,
    opacity: 0.85,
    rotate: degrees(angle),
  });
}

function drawLabel(writer: Writer, label: string, x: number, y: number) {
  writer.text(label.toUpperCase(), x, y, { size: 8, font: writer.bold, color: MUTED });
}

function drawTableHeader(writer: Writer, y: number): number {
  writer.page.drawRectangle({ x: MARGIN, y: y - 7, width: RIGHT - MARGIN, height: 22, color: SHADE });
  writer.text('Description', MARGIN + 8, y, { size: 9, font: writer.bold, color: MUTED });
  writer.textRight('Quantity', QUANTITY_RIGHT, y, { size: 9, font: writer.bold, color: MUTED });
  writer.textRight('Amount', RIGHT - 8, y, { size: 9, font: writer.bold, color: MUTED });
  return y - 28;
}

function drawFooter(writer: Writer, number: string, pageNumber: number, pageCount: number) {
  writer.rule(FOOTER_Y + 14);
  writer.text(`${SELLER.name} \u00b7 ${SELLER.email} \u00b7 Invoice ${number}`, MARGIN, FOOTER_Y, {
    size: 8,
    color: MUTED,
  });
  writer.textRight(`Page ${pageNumber} of ${pageCount}`, RIGHT, FOOTER_Y, { size: 8, color: MUTED });
}

/**
 * The invoice as a one-page (or longer) A4 PDF a customer can file: seller, buyer, dates, service
 * period, lines, total and how it is paid. Pure: everything it shows comes from `data`.
 */
export async function renderInvoicePdf(data: InvoicePdfData): Promise<Uint8Array> {
  const { invoice, lines, organization, paymentMethod } = data;
  const document = await PDFDocument.create();
  document.setTitle(`Invoice ${invoice.number}`);
  document.setAuthor(SELLER.name);
  document.setSubject(`${SELLER.name} invoice ${invoice.number} for ${organization.name}`);
  document.setCreator(SELLER.name);
  // Dates from the invoice, not the clock, so the same invoice always renders the same bytes.
  document.setCreationDate(invoice.calculatedAt);
  document.setModificationDate(invoice.calculatedAt);
  const writer = new Writer(
    document,
    await document.embedFont(StandardFonts.Helvetica),
    await document.embedFont(StandardFonts.HelveticaBold),
  );
  const money = (amount: bigint) => formatMoney(amount, invoice.currency);

  // Header: the seller on the left, the invoice's key facts on the right.
  let y = PAGE_HEIGHT - MARGIN - 18;
  writer.text(SELLER.name, MARGIN, y, { size: 24, font: writer.bold, color: ACCENT });
  writer.textRight('INVOICE', RIGHT, y, { size: 24, font: writer.bold });
  let left = y - 24;
  for (const line of [...SELLER.address, SELLER.email]) {
    writer.text(line, MARGIN, left, { size: 9, color: MUTED });
    left -= 13;
  }
  const facts: Array<[string, string]> = [
    ['Invoice number', invoice.number],
    ['Issue date', formatDate(invoice.calculatedAt)],
    [invoice.collection === 'send_invoice' ? 'Billing date' : 'Charge date', formatDate(invoice.billingAt)],
    ['Due date', formatDate(invoice.dueAt)],
    ['Status', STAMPS[invoice.status]?.label ?? invoice.status.toUpperCase()],
  ];
  let right = y - 24;
  for (const [label, value] of facts) {
    writer.textRight(label, RIGHT - 110, right, { size: 9, color: MUTED });
    writer.textRight(value, RIGHT, right, { size: 9, font: writer.bold });
    right -= 14;
  }
  y = Math.min(left, right) - 22;
  writer.rule(y + 8);

  // Bill to, and the service period.
  y -= 14;
  drawLabel(writer, 'Bill to', MARGIN, y);
  drawLabel(writer, 'Service period', 330, y);
  const details = billingDetailsOf(paymentMethod?.billingDetails);
  const buyer = [organization.name];
  if (details) {
    if (details.name.trim() && details.name.trim() !== organization.name.trim()) buyer.push(details.name);
    buyer.push(
      details.address.line1,
      `${details.address.postal_code ?? ''} ${details.address.city}`.trim(),
      countryName(details.address.country ?? ''),
      details.email,
    );
  } else {
    buyer.push(organization.email);
  }
  let buyerY = y - 16;
  buyer.forEach((line, index) => {
    for (const part of writer.wrap(line, 10, 250, index === 0 ? writer.bold : writer.regular)) {
      writer.text(part, MARGIN, buyerY, { size: 10, font: index === 0 ? writer.bold : writer.regular });
      buyerY -= 14;
    }
  });
  writer.text(`${formatDateTime(invoice.periodStart)} to`, 330, y - 16, { size: 10 });
  writer.text(formatDateTime(invoice.periodEnd), 330, y - 30, { size: 10 });
  writer.text(
    invoice.kind === 'final' ? 'Final invoice of the subscription' : 'Monthly invoice, billed in arrears',
    330,
    y - 46,
    {
      size: 9,
      color: MUTED,
    },
  );
  // The stamp sits under the service period; with its tilt it reaches about 52 pt above its corner.
  drawStamp(writer, invoice.status, 340, y - 116);
  y = Math.min(buyerY, y - 116) - 30;

  // Summary line, then the lines.
  const summaries: Record<string, string> = {
    paid: `${money(invoice.total)} paid on ${formatDate(invoice.paidAt ?? invoice.billingAt)}`,
    void: `${money(invoice.total)} voided, nothing due`,
    past_due: `${money(invoice.total)} past due since ${formatDate(invoice.dueAt)}`,
    uncollectible: `${money(invoice.total)} unpaid, due ${formatDate(invoice.dueAt)}`,
  };
  const summary = summaries[invoice.status] ?? `${money(invoice.total)} due ${formatDate(invoice.dueAt)}`;
  writer.text(summary, MARGIN, y, { size: 15, font: writer.bold });
  y -= 34;
  y = drawTableHeader(writer, y);
  for (const line of lines) {
    const wrapped = writer.wrap(line.description, 10, DESCRIPTION_WIDTH);
    const height = wrapped.length * 13 + 10;
    if (y - height < FOOTER_Y + 40) {
      writer.addPage();
      y = drawTableHeader(writer, PAGE_HEIGHT - MARGIN - 10);
    }
    writer.textRight(formatCount(line.quantity), QUANTITY_RIGHT, y, { size: 10 });
    writer.textRight(money(line.amount), RIGHT - 8, y, { size: 10 });
    for (const part of wrapped) {
      writer.text(part, MARGIN + 8, y, { size: 10 });
      y -= 13;
    }
    writer.rule(y + 3);
    y -= 12;
  }

  // Totals, right-aligned under the amount column, kept on one page with the payment note.
  const payment = paymentText(data).flatMap((sentence) => writer.wrap(sentence, 10, RIGHT - MARGIN));
  if (y - (90 + 14 * payment.length) < FOOTER_Y + 30) {
    writer.addPage();
    y = PAGE_HEIGHT - MARGIN - 10;
  }
  y -= 4;
  const totals: Array<[string, string, boolean]> = [
    [`Total (${invoice.currency.toUpperCase()})`, money(invoice.total), true],
  ];
  if (invoice.status === 'paid') totals.push(['Amount paid', money(invoice.total), false]);
  else if (invoice.status === 'void') totals.push(['Amount due', money(0n), false]);
  else totals.push(['Amount due', money(invoice.total), false]);
  for (const [label, value, strong] of totals) {
    const font = strong ? writer.bold : writer.regular;
    writer.textRight(label, QUANTITY_RIGHT, y, { size: 11, font });
    writer.textRight(value, RIGHT - 8, y, { size: 11, font });
    writer.rule(y - 7, 300);
    y -= 22;
  }

  // How it is paid.
  y -= 16;
  drawLabel(writer, 'Payment', MARGIN, y);
  y -= 16;
  for (const part of payment) {
    writer.text(part, MARGIN, y, { size: 10 });
    y -= 14;
  }

  const pages = document.getPages();
  pages.forEach((page, index) => {
    writer.page = page;
    drawFooter(writer, invoice.number, index + 1, pages.length);
  });
  return document.save();
}
