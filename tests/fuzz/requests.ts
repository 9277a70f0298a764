/** The request generators of the fuzz suite: malformed requests, and valid ones with unusual values. */
import fc from 'fast-check';
import { baseline } from './baseline.ts';
import { defectsFor } from './defects.ts';
import {
  type Change,
  clone,
  type Draft,
  describeValue,
  type FuzzRequest,
  fieldsOf,
  finish,
  setAt,
  typeOf,
} from './draft.ts';
import { bodyNoise, headerNoise, idempotencyNoise, queryNoise, readNoise } from './noise.ts';
import type { Operation } from './openapi.ts';
import { deepJson, nastyEmail, nastyString, nesting, oddInstant } from './values.ts';
import type { World } from './world.ts';

/**
 * Malformed requests for one operation: a valid baseline (real ids, working credentials), some noise,
 * then one or two defects, each of which the contract refuses. Reads may come without a defect.
 */
export function malformedRequests(
  operation: Operation,
  world: World,
  matches: (method: string, path: string) => boolean,
): fc.Arbitrary<FuzzRequest> {
  const defects = defectsFor(operation, world, matches);
  const noise = [
    headerNoise,
    ...bodyNoise(operation),
    ...(operation.method === 'POST' ? [idempotencyNoise] : []),
    ...(operation.isRead ? [queryNoise(operation), queryNoise(operation)] : [queryNoise(operation)]),
    ...(operation.method === 'GET' ? [readNoise] : []),
  ];
  const defect = fc.oneof(...defects);
  return fc
    .record({
      base: baseline(operation, world),
      noise: fc.array(fc.oneof(...noise), { maxLength: 4 }),
      defects: operation.isRead
        ? fc.oneof(fc.constant([] as Change[]), fc.array(defect, { minLength: 1, maxLength: 2 }))
        : fc.oneof(
            { weight: 6, arbitrary: fc.array(defect, { minLength: 1, maxLength: 1 }) },
            { weight: 1, arbitrary: fc.array(defect, { minLength: 2, maxLength: 2 }) },
          ),
    })
    .map(({ base, noise: noises, defects: chosen }) => {
      const draft: Draft = {
        ...base,
        params: { ...base.params },
        query: [],
        cookies: [],
        headers: { ...base.headers },
        defects: [],
        noise: [],
      };
      if (draft.body.kind === 'json') draft.body = { ...draft.body, value: clone(draft.body.value), prefix: [] };
      for (const item of noises) {
        item.apply(draft);
        draft.noise.push(item.label);
      }
      for (const item of chosen) {
        item.apply(draft);
        draft.defects.push(item.label);
      }
      return finish(draft, world);
    });
}

/** Operations whose valid requests only add things: safe to send with unusual but valid values. */
export const ADDITIVE_OPERATIONS = [
  'POST /v1/signup',
  'POST /v1/auth/login',
  'POST /v1/me/tokens',
  'POST /v1/admin/staff',
  'POST /v1/orgs/{org_id}/teams',
  'PATCH /v1/orgs/{org_id}/teams/{team_id}',
  'POST /v1/orgs/{org_id}/invitations',
  'POST /v1/orgs/{org_id}/system-accounts',
  'POST /v1/orgs/{org_id}/system-accounts/{system_account_id}/tokens',
  'POST /v1/orgs/{org_id}/runtimes',
  'PUT /v1/orgs/{org_id}/control-plane/config',
  'POST /v1/runtime/usage',
  'POST /v1/orgs/{org_id}/payment-methods',
  'POST /v1/orgs/{org_id}/sales-inquiries',
  'POST /v1/orgs/{org_id}/subscription/preview',
];

/**
 * Valid requests with unusual values in their text fields (NUL, lone surrogates, bidi controls, odd
 * emails and instants): they may be accepted, and must never be a 5xx.
 */
export function unusualValidRequests(operation: Operation, world: World): fc.Arbitrary<FuzzRequest> {
  const strings = fieldsOf(operation.body).filter(
    (field) => typeOf(field.schema) === 'string' && !(field.schema.enum || field.schema.anyOf),
  );
  const pick =
    strings.length > 0 ? fc.uniqueArray(fc.constantFrom(...strings), { minLength: 1, maxLength: 3 }) : fc.constant([]);
  return fc
    .record({
      base: baseline(operation, world),
      fields: pick.chain((chosen) =>
        fc.tuple(
          ...chosen.map((field) => {
            const name = field.path[field.path.length - 1];
            const max = field.schema.maxLength ?? 100;
            const values = name === 'email' ? nastyEmail : name === 'timestamp' ? oddInstant : nastyString;
            return values
              .filter((value) => [...value].length <= max && value.length > 0)
              .map((value) => ({ field, value }));
          }),
        ),
      ),
      noise: fc.array(headerNoise, { maxLength: 2 }),
      deep: fc.option(nesting, { freq: 4 }),
    })
    .map(({ base, fields, noise, deep }) => {
      const draft: Draft = {
        ...base,
        params: { ...base.params },
        query: [],
        cookies: [],
        headers: { ...base.headers },
        defects: [],
        noise: [],
      };
      if (draft.body.kind === 'json')
        draft.body = {
          ...draft.body,
          value: clone(draft.body.value),
          contentType: 'application/json',
          indent: '',
          prefix: [],
        };
      for (const { field, value } of fields) {
        setAt(draft, field.path, value);
        draft.noise.push(`body.${field.path.join('.')} = ${describeValue(value)}`);
      }
      const value = draft.body.kind === 'json' ? draft.body.value : undefined;
      if (deep && value && typeof value === 'object') {
        // Extra fields are allowed (the schemas are open); this one is deeply nested.
        Object.defineProperty(value, 'zz_nested', {
          value: deepJson(deep.depth, deep.kind),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        draft.noise.push(`extra field nested ${deep.depth} deep (${deep.kind}s)`);
      }
      for (const item of noise) {
        if (item.label.startsWith('sec-fetch-site')) continue;
        item.apply(draft);
        draft.noise.push(item.label);
      }
      return finish(draft, world);
    });
}
