import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { decodeCursor, pageInMemory, toPage } from '../../db/pagination.ts';
import type { Deps } from '../../deps.ts';
import { actorOf, requireOrgAccess, requireStaff } from '../../http/auth.ts';
import { bodyOptional, errors, ListQuery, OrgParams, ShortListQuery } from '../../http/schemas.ts';
import { fail } from '../../kernel/errors.ts';
import { getOrg } from '../organizations/index.ts';
import { addPaymentMethod } from './add-payment-method.ts';
import {
  findActiveSubscription,
  findInvoice,
  findPaymentMethod,
  findSubscription,
  linesOf,
  listInvoices,
  listPaymentMethods,
  listSalesInquiries,
} from './billing.repo.ts';
import { period } from './billing.ts';
import { billingOverviewJson } from './billing-overview.ts';
import { changePlanBySales } from './change-plan-by-sales.ts';
import { downgradeToFree, planFinalInvoice } from './end-subscription.ts';
import { renderInvoicePdf } from './invoice-pdf.ts';
import { markInvoicePaid } from './mark-invoice-paid.ts';
import { presentInvoice, presentLine, presentPaymentMethod, presentSubscription } from './present.ts';
import { submitSalesInquiry } from './sales-inquiries.ts';
import { upgradeToPlus } from './start-subscription.ts';

const Plan = Type.Union([Type.Literal('free'), Type.Literal('plus'), Type.Literal('enterprise')], {
  description: 'free, plus or enterprise.',
});

const PaymentMethodBody = Type.Object({
  card: Type.Object({
    number: Type.String({
      minLength: 12,
      maxLength: 23,
      description: 'The card number; only the last four digits are kept.',
    }),
    exp_month: Type.Integer({ minimum: 1, maximum: 12 }),
    exp_year: Type.Integer({ minimum: 2000, maximum: 2100 }),
    cvc: Type.String({ minLength: 3, maxLength: 4, description: 'Checked with the card, never stored.' }),
  }),
  billing_details: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.String({ minLength: 3, maxLength: 254 }),
    address: Type.Object({
      line1: Type.String({ minLength: 1, maxLength: 200 }),
      city: Type.String({ minLength: 1, maxLength: 100 }),
      postal_code: Type.String({ minLength: 1, maxLength: 20 }),
      country: Type.String({ minLength: 2, maxLength: 2, description: 'ISO 3166-1 alpha-2 country code.' }),
    }),
  }),
});

const TermsBody = Type.Object({
  monthly_fee: Type.Integer({ minimum: 0, maximum: 1e12, description: 'Minor units.' }),
  included_requests: Type.Integer({ minimum: 0, maximum: 1e15 }),
  overage_per_million: Type.Integer({ minimum: 0, maximum: 1e12, description: 'Minor units per million requests.' }),
  net_days: Type.Integer({
    minimum: 0,
    maximum: 365,
    description: '0: charge the card; N: pay by transfer within N days.',
  }),
});

const InvoiceParams = Type.Object({
  org_id: Type.String({ maxLength: 64 }),
  invoice_id: Type.String({ maxLength: 64 }),
});

/** Plans, payment methods, subscriptions, invoices, Contact Sales, and the sales and support tools. */
export function billingRoutes(deps: Deps) {
  return async (base: FastifyInstance) => {
    const app = base.withTypeProvider<TypeBoxTypeProvider>();
    const { db, payments, catalog } = deps;

    app.get('/plans', { schema: { tags: ['billing'] } }, async () => ({
      currency: catalog.currency,
      data: catalog.plans,
    }));

    app.get(
      '/orgs/:org_id/billing',
      { schema: { tags: ['billing'], params: OrgParams, response: errors(401, 404) } },
      async (request, reply) => {
        requireOrgAccess(request, request.params.org_id, 'read');
        const json = await billingOverviewJson(db, request.params.org_id, request.now, deps.readCache);
        // The bytes are returned rather than sent: returning the reply would make the handler's promise
        // wait on the reply itself (a listener on the response per request, on the hottest route).
        reply.type('application/json; charset=utf-8');
        return json;
      },
    );

    app.post(
      '/orgs/:org_id/payment-methods',
      {
        schema: {
          tags: ['billing'],
          params: OrgParams,
          body: PaymentMethodBody,
          response: errors(400, 401, 402, 403, 404),
        },
      },
      async (request, reply) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        const { card, billing_details: details } = request.body;
        const result = await addPaymentMethod(db, payments, request.now, {
          orgId: request.params.org_id,
          actor: actorOf(caller),
          card: { number: card.number, expMonth: card.exp_month, expYear: card.exp_year, cvc: card.cvc },
          billingDetails: details,
        });
        return reply.status(201).send({
          ...presentPaymentMethod(result.method),
          collected_invoices: result.collected.map((invoice) => ({ id: invoice.id, status: invoice.status })),
        });
      },
    );

    app.get(
      '/orgs/:org_id/payment-methods',
      {
        schema: {
          tags: ['billing'],
          params: OrgParams,
          querystring: ShortListQuery,
          response: errors(400, 401, 403, 404),
        },
      },
      async (request) => {
        requireOrgAccess(request, request.params.org_id, 'read_admin');
        const methods = await listPaymentMethods(db, request.params.org_id);
        return pageInMemory(methods, (method) => method, request.query, presentPaymentMethod);
      },
    );

    app.post(
      '/orgs/:org_id/subscription',
      {
        schema: {
          tags: ['billing'],
          params: OrgParams,
          body: Type.Object({ plan: Plan, payment_method_id: Type.String({ minLength: 1, maxLength: 64 }) }),
          response: errors(400, 401, 403, 404, 409),
        },
      },
      async (request) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        const subscription = await upgradeToPlus(db, request.now, {
          orgId: request.params.org_id,
          plan: request.body.plan,
          paymentMethodId: request.body.payment_method_id,
          actor: actorOf(caller),
          catalog,
        });
        return presentSubscription(subscription, request.now);
      },
    );

    app.post(
      '/orgs/:org_id/subscription/preview',
      {
        schema: {
          tags: ['billing'],
          params: OrgParams,
          body: Type.Object({ plan: Plan }),
          response: errors(400, 401, 403, 404, 409),
        },
      },
      async (request) => {
        requireOrgAccess(request, request.params.org_id, 'manage');
        const now = request.now;
        const subscription = await findActiveSubscription(db, request.params.org_id);
        const plan = request.body.plan;
        if (plan === 'enterprise') {
          throw fail.forbidden('contact_sales_required', 'Enterprise is sold by our sales team. Use Contact Sales.');
        }
        if ((subscription?.plan ?? 'free') === plan)
          throw fail.conflict('same_plan', `This organization is already on ${plan}.`);
        if (plan === 'plus') {
          // As the upgrade itself answers: an Enterprise org cannot switch to Plus self-serve.
          if (subscription) {
            throw fail.conflict('already_subscribed', `This organization is already on the ${subscription.plan} plan.`);
          }
          const first = period(now, 1);
          return {
            invoice: null,
            effective_at: now.toISOString(),
            next_calculation_at: first.calculationAt.toISOString(),
            next_billing_at: first.end.toISOString(),
          };
        }
        if (subscription?.plan === 'enterprise') {
          throw fail.forbidden('contact_sales_required', 'Enterprise contracts are changed by our sales team.');
        }
        const planned = await planFinalInvoice(db, subscription!, now);
        return {
          invoice: {
            kind: 'final',
            status: 'open',
            currency: subscription!.currency,
            subscription_id: subscription!.id,
            period: { start: planned.current.start.toISOString(), end: now.toISOString() },
            calculated_at: now.toISOString(),
            billing_at: now.toISOString(),
            lines: planned.lines.map(presentLine),
            total: Number(planned.total),
          },
          voids_invoice_id: planned.voids?.id ?? null,
          effective_at: now.toISOString(),
          next_calculation_at: null,
          next_billing_at: null,
        };
      },
    );

    app.delete(
      '/orgs/:org_id/subscription',
      { schema: { tags: ['billing'], params: OrgParams, response: errors(401, 403, 404, 409) } },
      async (request) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        const result = await downgradeToFree(db, payments, request.now, {
          orgId: request.params.org_id,
          actor: actorOf(caller),
          catalog,
        });
        const lines = await linesOf(db, result.finalInvoice.orgId, [result.finalInvoice.id]);
        return {
          subscription: presentSubscription(result.subscription, request.now),
          final_invoice: presentInvoice(result.finalInvoice, lines),
        };
      },
    );

    app.post(
      '/orgs/:org_id/sales-inquiries',
      {
        schema: {
          tags: ['billing'],
          params: OrgParams,
          body: Type.Object({
            name: Type.String({ minLength: 1, maxLength: 200 }),
            email: Type.String({ minLength: 3, maxLength: 254 }),
            company: Type.String({ minLength: 1, maxLength: 200 }),
            message: Type.String({ minLength: 1, maxLength: 5000 }),
          }),
          response: errors(400, 401, 403, 404),
        },
      },
      async (request, reply) => {
        const caller = requireOrgAccess(request, request.params.org_id, 'manage');
        const inquiry = await submitSalesInquiry(db, request.now, {
          orgId: request.params.org_id,
          actor: actorOf(caller),
          ...request.body,
        });
        return reply.status(201).send(presentInquiry(inquiry));
      },
    );

    app.get(
      '/orgs/:org_id/invoices',
      { schema: { tags: ['billing'], params: OrgParams, querystring: ListQuery, response: errors(400, 401, 404) } },
      async (request) => {
        requireOrgAccess(request, request.params.org_id, 'read');
        const limit = request.query.limit ?? 20;
        const rows = await listInvoices(db, request.params.org_id, limit + 1, decodeCursor(request.query.cursor));
        const lines = await linesOf(
          db,
          request.params.org_id,
          rows.map((row) => row.id),
        );
        return toPage(rows, limit, (row) => presentInvoice(row, lines));
      },
    );

    app.get(
      '/orgs/:org_id/invoices/:invoice_id',
      { schema: { tags: ['billing'], params: InvoiceParams, response: errors(401, 404) } },
      async (request) => {
        requireOrgAccess(request, request.params.org_id, 'read');
        const invoice = await findInvoice(db, request.params.org_id, request.params.invoice_id);
        if (!invoice) throw fail.notFound('invoice');
        return presentInvoice(invoice, await linesOf(db, invoice.orgId, [invoice.id]));
      },
    );

    app.get(
      '/orgs/:org_id/invoices/:invoice_id/pdf',
      {
        schema: {
          tags: ['billing'],
          description: 'The invoice as a PDF document for people and their accountants.',
          params: InvoiceParams,
          response: {
            200: {
              description: 'The invoice, application/pdf, shown inline as <number>.pdf.',
              content: { 'application/pdf': { schema: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }) } },
            },
            ...errors(401, 404),
          },
        },
      },
      async (request, reply) => {
        requireOrgAccess(request, request.params.org_id, 'read');
        const invoice = await findInvoice(db, request.params.org_id, request.params.invoice_id);
        if (!invoice) throw fail.notFound('invoice');
        const lines = await linesOf(db, invoice.orgId, [invoice.id]);
        const organization = await getOrg(db, invoice.orgId);
        const subscription = await findSubscription(db, invoice.orgId, invoice.subscriptionId);
        const paymentMethod = subscription?.paymentMethodId
          ? await findPaymentMethod(db, invoice.orgId, subscription.paymentMethodId)
          : undefined;
        const pdf = await renderInvoicePdf({ invoice, lines, organization, paymentMethod });
        return reply
          .type('application/pdf')
          .header('content-disposition', `inline; filename="${invoice.number}.pdf"`)
          .send(Buffer.from(pdf));
      },
    );

    app.get(
      '/admin/sales-inquiries',
      { schema: { tags: ['sales'], querystring: ListQuery, response: errors(400, 401, 403) } },
      async (request) => {
        requireStaff(request, 'sales');
        const limit = request.query.limit ?? 20;
        const rows = await listSalesInquiries(db, limit + 1, decodeCursor(request.query.cursor));
        return toPage(rows, limit, presentInquiry);
      },
    );

    app.put(
      '/admin/orgs/:org_id/subscription',
      {
        schema: {
          tags: ['sales'],
          params: OrgParams,
          body: Type.Object({
            plan: Plan,
            terms: Type.Optional(TermsBody),
            payment_method_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          }),
          response: errors(400, 401, 403, 404, 409),
        },
      },
      async (request) => {
        const caller = requireStaff(request, 'sales');
        const terms = request.body.terms;
        const result = await changePlanBySales(db, payments, request.now, {
          orgId: request.params.org_id,
          actor: actorOf(caller),
          plan: request.body.plan,
          terms: terms
            ? {
                monthlyFee: BigInt(terms.monthly_fee),
                includedRequests: BigInt(terms.included_requests),
                overagePerMillion: BigInt(terms.overage_per_million),
                netDays: terms.net_days,
              }
            : undefined,
          paymentMethodId: request.body.payment_method_id,
          catalog,
        });
        const lines = result.finalInvoice ? await linesOf(db, result.finalInvoice.orgId, [result.finalInvoice.id]) : [];
        return {
          plan: request.body.plan,
          subscription: result.subscription ? presentSubscription(result.subscription, request.now) : null,
          ended_subscription: result.ended ? presentSubscription(result.ended, request.now) : null,
          final_invoice: result.finalInvoice ? presentInvoice(result.finalInvoice, lines) : null,
        };
      },
    );

    app.post(
      '/admin/invoices/:invoice_id/mark-paid',
      {
        schema: {
          tags: ['support'],
          params: Type.Object({ invoice_id: Type.String({ maxLength: 64 }) }),
          body: Type.Object({ reference: Type.Optional(Type.String({ maxLength: 200 })) }),
          response: errors(400, 401, 403, 404, 409),
        },
        preValidation: bodyOptional,
      },
      async (request) => {
        const caller = requireStaff(request, 'support');
        const paid = await markInvoicePaid(db, request.now, {
          invoiceId: request.params.invoice_id,
          actor: actorOf(caller),
          reference: request.body.reference,
        });
        return presentInvoice(paid, await linesOf(db, paid.orgId, [paid.id]));
      },
    );
  };
}

function presentInquiry(row: {
  id: string;
  orgId: string;
  name: string;
  email: string;
  company: string;
  message: string;
  createdAt: Date;
}) {
  return {
    id: row.id,
    org_id: row.orgId,
    name: row.name,
    email: row.email,
    company: row.company,
    message: row.message,
    created_at: row.createdAt.toISOString(),
  };
}
