/** The valid baseline of a request: real ids, working credentials, bodies that would be accepted. */
import fc from 'fast-check';
import { type Body, type Credential, type Draft, encode, type Path, typeOf } from './draft.ts';
import type { Operation, Schema } from './openapi.ts';
import { hex } from './values.ts';
import { validCard, type World } from './world.ts';

const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{0,14}[A-Za-z0-9]$/);

/** A real object for each path parameter: the one a valid request would act on. */
export function validParam(operation: Operation, name: string, world: World): string {
  const { ids } = world;
  switch (name) {
    case 'org_id':
      return operation.path.endsWith('/reactivate') ? ids.deactivatedOrgId : ids.orgId;
    case 'user_id':
      return ids.memberUserId;
    case 'team_id':
      return ids.teamId;
    case 'token_id':
      return operation.path.includes('system-accounts') ? ids.systemTokenId : ids.personalTokenId;
    case 'invitation_id':
      return ids.invitationId;
    case 'system_account_id':
      return ids.systemAccountId;
    case 'runtime_id':
      return ids.runtimeId;
    case 'invoice_id':
      return ids.invoiceId;
    case 'email':
      return ids.lockedEmail;
    case 'endpoint_id':
      return ids.webhookEndpointId;
    case 'delivery_id':
      return ids.webhookDeliveryId;
    default:
      throw new Error(`The fuzzer has no real value for the path parameter ${name} of ${operation.key}.`);
  }
}

export function schemaValue(schema: Schema): fc.Arbitrary<unknown> {
  const enumValues = schema.enum ?? schema.anyOf?.flatMap((option) => option.enum ?? []);
  if (enumValues && enumValues.length > 0) return fc.constantFrom(...enumValues);
  switch (typeOf(schema)) {
    case 'string':
      return fc.string({
        minLength: Math.max(1, schema.minLength ?? 1),
        maxLength: Math.min(schema.maxLength ?? 20, 20),
        unit: 'grapheme-ascii',
      });
    case 'integer':
      return fc.integer({ min: schema.minimum ?? 0, max: Math.min(schema.maximum ?? 1000, 1_000_000) });
    case 'number':
      return fc.double({ min: schema.minimum ?? 0, max: schema.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(schema.items ? schemaValue(schema.items) : fc.constant(null), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 3, 3)),
      });
    case 'object': {
      const entries = Object.entries(schema.properties ?? {});
      return fc.record(Object.fromEntries(entries.map(([name, property]) => [name, schemaValue(property)])));
    }
    default:
      return fc.constant(null);
  }
}

/** A valid value for a body field: real ids and working secrets where the field names one. */
function validField(operation: Operation, path: Path, schema: Schema, world: World): fc.Arbitrary<unknown> {
  const name = path[path.length - 1];
  const key = operation.key;
  const future = new Date(Date.parse(world.now) + 86_400_000).toISOString();
  const freshEmail = hex.map((text) => `fuzz-${text}@example.com`);
  switch (name) {
    case 'email':
      if (key === 'POST /v1/auth/login') return fc.constant(world.owner.email);
      if (path.length === 1 && /signup|staff|invitations$/.test(operation.path)) return freshEmail;
      return fc.constant('billing@example.com');
    case 'password':
      if (key === 'POST /v1/auth/login') return fc.constant(world.owner.password);
      return fc.constantFrom('correct-horse-battery', 'member-password-1', 'p'.repeat(128));
    case 'org_id':
      return fc.constant(world.ids.orgId);
    case 'user_id':
      return fc.constant(world.ids.memberUserId);
    case 'token':
      return fc.constant(world.ids.invitationToken);
    case 'payment_method_id':
      return fc.constant(world.ids.paymentMethodId);
    case 'plan':
      return key.includes('/preview') ? fc.constantFrom('free', 'plus', 'enterprise') : fc.constant('plus');
    case 'roles':
      return path.length === 1 && operation.path.startsWith('/v1/admin/staff')
        ? fc.constantFrom(['support'], ['sales'], ['support', 'sales'])
        : fc.constantFrom(['member'], ['org_admin_read_only'], ['org_admin', 'member']);
    case 'report_id':
      return hex.map((text) => `fuzz-report-${text}`);
    case 'timestamp':
      return fc.constant(world.now);
    case 'requests':
      return fc.integer({ min: 0, max: 1_000_000 });
    case 'path_prefix':
      return fc.constantFrom('/api', '/v2/things', '/');
    case 'upstream_url':
      return fc.constantFrom('https://upstream.example.com', 'http://10.0.0.1:8080/base');
    case 'service':
      return fc.constantFrom('api', 'billing');
    case 'card':
      return fc.constant(validCard().card);
    case 'country':
      return fc.constantFrom('GB', 'US', 'DE');
    case 'reason':
      return fc.constantFrom('support_request', 'owner_request', 'abuse', 'A sentence about why.');
    case 'restore_memberships':
      return fc.boolean();
    case 'url':
      return fc.constantFrom('https://hooks.example.com/tierline', 'http://127.0.0.1:9/fuzz');
    case 'events':
      return fc.constantFrom(['*'], ['invoice.paid', 'org.created']);
    case 'to':
      return fc.constant(future);
    case 'terms':
      return fc.constant({
        monthly_fee: 100_000,
        included_requests: 5_000_000,
        overage_per_million: 1_500,
        net_days: 30,
      });
    case 'expires_in_days':
      return fc.integer({ min: 1, max: 3650 });
    case 'name':
    case 'full_name':
    case 'org_name':
    case 'company':
      return word;
    case 'message':
      return fc.lorem({ maxCount: 12 });
    default:
      break;
  }
  if (typeOf(schema) === 'object' && schema.properties) {
    const entries = Object.entries(schema.properties);
    return fc.record(
      Object.fromEntries(
        entries.map(([child, property]) => [child, validField(operation, [...path, child], property, world)]),
      ),
    );
  }
  if (typeOf(schema) === 'array' && schema.items?.properties) {
    const items = schema.items;
    return fc.array(validField(operation, [...path, '0'], items, world), { minLength: 1, maxLength: 3 });
  }
  return schemaValue(schema);
}

/** The credentials a valid request would carry. */
function validCredential(operation: Operation): fc.Arbitrary<Credential> {
  switch (operation.audience) {
    case 'anyone':
      return fc.constant('none');
    case 'member':
      return fc.constantFrom<Credential>('owner', 'owner', 'personal', 'system');
    case 'session':
      return fc.constant('owner');
    case 'caller':
      return fc.constantFrom<Credential>('owner', 'staff', 'personal', 'member');
    case 'staff':
      return fc.constant('staff');
    case 'runtime':
      return fc.constant('runtime');
  }
}

const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'Application/JSON',
  'application/json; charset=latin1',
  'application/json ; foo=bar',
];

export function baseline(operation: Operation, world: World): fc.Arbitrary<Draft> {
  const body: fc.Arbitrary<Body> = operation.body
    ? fc
        .record({
          value: validField(operation, [], operation.body, world),
          contentType: fc.oneof(
            { weight: 6, arbitrary: fc.constant('application/json') },
            fc.constantFrom(...JSON_TYPES),
          ),
          indent: fc.constantFrom('', '', '', '  ', '\t'),
        })
        .map((json) => ({ kind: 'json' as const, ...json, prefix: [] }))
    : fc.constant({ kind: 'none' as const });
  // Clients that retry send an Idempotency-Key with every POST (spec 11): half the baselines do.
  const idempotencyKey = operation.method === 'POST' ? fc.option(hex.map((text) => `key-${text}`)) : fc.constant(null);
  return fc.record({ credential: validCredential(operation), body, idempotencyKey }).map(
    ({ credential, body: chosen, idempotencyKey: key }): Draft => ({
      operation,
      method: operation.method,
      params: Object.fromEntries(
        operation.pathParams.map((parameter) => [parameter.name, encode(validParam(operation, parameter.name, world))]),
      ),
      query: [],
      credential,
      cookies: [],
      headers: key ? { 'idempotency-key': key } : {},
      body: chosen,
      defects: [],
      noise: [],
    }),
  );
}
