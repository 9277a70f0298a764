import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestInstance, signUpOwner, type TestInstance } from '../helpers/instance.ts';
import { pdfText } from '../helpers/pdf-text.ts';

// S; C_1 = S + 1 month − 72 h; B_1 = S + 1 month.
const START = '2027-01-10T08:30:00.000Z';
const AFTER_CALCULATION = '2027-02-07T08:31:00.000Z';
const AFTER_BILLING = '2027-02-10T08:31:00.000Z';

describe('GET /v1/orgs/{org_id}/invoices/{invoice_id}/pdf', () => {
  let t: TestInstance;
  let owner: Awaited<ReturnType<typeof signUpOwner>>;
  let other: Awaited<ReturnType<typeof signUpOwner>>;
  let invoice: { id: string; number: string; total: number };

  /** The raw bytes: the JSON helper would decode the body as text. */
  async function getPdf(orgId: string, invoiceId: string, cookie?: string) {
    const response = await t.app.inject({
      method: 'GET',
      url: `/v1/orgs/${orgId}/invoices/${invoiceId}/pdf`,
      headers: cookie ? { cookie } : {},
    });
    return { status: response.statusCode, headers: response.headers, bytes: response.rawPayload };
  }

  async function advanceAndLogIn(to: string) {
    expect((await t.call('POST', '/v1/test-clock/advance', { body: { to } })).status).toBe(200);
    // Sessions expire after 24 hours idle.
    const login = await t.call('POST', '/v1/auth/login', { body: { email: owner.email, password: owner.password } });
    expect(login.status).toBe(200);
    owner.cookie = login.cookie!;
    // The other (free) org logs in too, so that inactivity does not deactivate it meanwhile.
    const otherLogin = await t.call('POST', '/v1/auth/login', {
      body: { email: other.email, password: other.password },
    });
    expect(otherLogin.status).toBe(200);
  }

  beforeAll(async () => {
    t = await createTestInstance({ start: START });
    owner = await signUpOwner(t, { org_name: 'Acme Rockets' });
    other = await signUpOwner(t, { org_name: 'Other Org' });
    const card = await t.call('POST', `/v1/orgs/${owner.orgId}/payment-methods`, {
      cookie: owner.cookie,
      body: {
        card: { number: '4242424242424242', exp_month: 12, exp_year: 2030, cvc: '123' },
        billing_details: {
          name: 'Jeanne Dupont',
          email: 'accounts@acme.example',
          address: { line1: '12 rue de Rivoli', city: 'Paris', postal_code: '75001', country: 'FR' },
        },
      },
    });
    expect(card.status).toBe(201);
    const upgrade = await t.call('POST', `/v1/orgs/${owner.orgId}/subscription`, {
      cookie: owner.cookie,
      body: { plan: 'plus', payment_method_id: card.body.id },
    });
    expect(upgrade.status).toBe(200);
    await advanceAndLogIn(AFTER_CALCULATION);
    const list = await t.call('GET', `/v1/orgs/${owner.orgId}/invoices`, { cookie: owner.cookie });
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(1);
    invoice = list.body.data[0];
    expect(invoice.number).toMatch(/^TL-\d+$/);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers an open invoice as an inline PDF named after its number', async () => {
    const response = await getPdf(owner.orgId, invoice.id, owner.cookie);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/pdf');
    expect(response.headers['content-disposition']).toBe(`inline; filename="${invoice.number}.pdf"`);
    expect(response.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = pdfText(response.bytes).replace(/\s+/g, ' ');
    expect(text).toContain(invoice.number);
    expect(text).toContain('Acme Rockets');
    expect(text).toContain('Jeanne Dupont');
    expect(text).toContain('75001 Paris');
    expect(text).toContain('Plus plan, monthly fee');
    expect(text).toContain('Total (USD) USD 100.00');
    expect(text).toContain('Issue date 7 Feb 2027');
    expect(text).toContain('Charge date 10 Feb 2027');
    expect(text).toContain('10 Jan 2027, 08:30 UTC to 10 Feb 2027, 08:30 UTC');
    expect(text).toContain('OPEN');
    expect(text).toContain('USD 100.00 will be charged to Visa ending in 4242 (expires 12/2030) on 10 Feb 2027.');
  });

  it('stamps the invoice PAID once it has been charged', async () => {
    await advanceAndLogIn(AFTER_BILLING);
    const response = await getPdf(owner.orgId, invoice.id, owner.cookie);
    expect(response.status).toBe(200);
    const text = pdfText(response.bytes).replace(/\s+/g, ' ');
    expect(text).toContain('PAID');
    expect(text).toContain('Amount paid USD 100.00');
    expect(text).toContain('Paid on 10 Feb 2027 with Visa ending in 4242.');
  });

  it("answers 404 for another org's invoice, both through that org's path and through one's own", async () => {
    const login = await t.call('POST', '/v1/auth/login', { body: { email: other.email, password: other.password } });
    expect(login.status).toBe(200);
    const foreignPath = await getPdf(owner.orgId, invoice.id, login.cookie);
    expect(foreignPath.status).toBe(404);
    const ownPath = await getPdf(other.orgId, invoice.id, login.cookie);
    expect(ownPath.status).toBe(404);
    expect(JSON.parse(ownPath.bytes.toString('utf8')).error.code).toBe('not_found');
    const unknown = await getPdf(owner.orgId, 'inv_unknown', owner.cookie);
    expect(unknown.status).toBe(404);
  });

  it('answers 401 without a session', async () => {
    const response = await getPdf(owner.orgId, invoice.id);
    expect(response.status).toBe(401);
  });

  it('is documented in the OpenAPI document as application/pdf', async () => {
    const document = await t.call('GET', '/openapi.json');
    const operation = document.body.paths['/v1/orgs/{org_id}/invoices/{invoice_id}/pdf'].get;
    expect(Object.keys(operation.responses['200'].content)).toEqual(['application/pdf']);
  });
});
