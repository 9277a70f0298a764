/** Noise: unusual but harmless on its own; applied before the defects, it never makes a refused request valid. */
import fc from 'fast-check';
import {
  bodyLimitOf,
  type Change,
  change,
  deleteAt,
  describeValue,
  encode,
  fieldsOf,
  getAt,
  latin1,
  type Path,
  setAt,
  typeOf,
} from './draft.ts';
import type { Operation, Schema } from './openapi.ts';
import {
  BAD_UTF8,
  BadUtf8String,
  deepJson,
  encodeJson,
  extraKey,
  hex,
  nastyEmail,
  nastyString,
  nesting,
  oddCursor,
  oddInstant,
  oddJson,
  RawJson,
  remoteAddress,
} from './values.ts';

export const headerNoise: fc.Arbitrary<Change> = fc.oneof(
  fc
    .record({
      name: fc.constantFrom(
        'user-agent',
        'accept',
        'accept-language',
        'accept-encoding',
        'x-forwarded-for',
        'x-forwarded-host',
        'x-forwarded-proto',
        'forwarded',
        'x-real-ip',
        'x-request-id',
        'if-none-match',
        'if-modified-since',
        'range',
        'referer',
        'via',
        'x-http-method-override',
        'content-encoding',
        'content-language',
        'dnt',
        'x-tierline-org',
        'sec-fetch-mode',
        'sec-fetch-dest',
      ),
      value: fc.oneof(
        nastyString.map(latin1),
        fc.constantFrom(
          '',
          '*/*',
          'gzip, br',
          'bytes=0-1',
          'bytes=-5',
          '127.0.0.1, 10.0.0.1',
          'PUT',
          'DELETE',
          'identity',
        ),
        fc.constantFrom(1_000, 16_000, 64_000).map((length) => 'h'.repeat(length)),
      ),
    })
    .map(({ name, value }) =>
      change(`header ${name}: ${value.slice(0, 40)}${value.length > 40 ? `… (${value.length})` : ''}`, (draft) => {
        draft.headers[name] = value;
      }),
    ),
  fc
    .record({
      name: fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
      values: fc.array(nastyString.map(latin1), { minLength: 1, maxLength: 3 }),
    })
    .map(({ name, values }) =>
      change(`header ${name} ×${values.length}`, (draft) => {
        draft.headers[name] = values.length === 1 ? values[0] : values;
      }),
    ),
  fc.constantFrom('same-origin', 'none').map((site) =>
    change(`sec-fetch-site: ${site}`, (draft) => {
      if (!draft.headers.origin) draft.headers['sec-fetch-site'] = site;
    }),
  ),
  fc
    .array(
      fc.oneof(
        fc.constantFrom('a=b', 'theme=dark', ';;', '=', 'x=%ff', `big=${'c'.repeat(4000)}`),
        nastyString.map((text) => `n=${latin1(text)}`),
      ),
      {
        minLength: 1,
        maxLength: 3,
      },
    )
    .map((cookies) =>
      change(`cookies ${cookies.join('; ').slice(0, 60)}`, (draft) => {
        draft.cookies.push(...cookies);
      }),
    ),
  remoteAddress.map((address) =>
    change(`from ${address}`, (draft) => {
      draft.remoteAddress = address;
    }),
  ),
);

/** Idempotency keys: fresh, shared between requests (replays and reuse with another body), odd, duplicated. */
export const idempotencyNoise: fc.Arbitrary<Change> = fc
  .oneof(
    hex.map((text) => `fuzz-${text}`),
    fc.constantFrom('shared-1', 'shared-2', 'shared-3'),
    fc.constantFrom('', ' ', 'k'.repeat(255), 'k'.repeat(256), 'k'.repeat(10_000), 'a, b'),
    nastyString.map(latin1),
    fc.array(fc.constantFrom('dup-1', 'dup-2', ''), { minLength: 2, maxLength: 3 }),
  )
  .map((key) =>
    change(`Idempotency-Key ${JSON.stringify(key).slice(0, 40)}`, (draft) => {
      if (draft.method === 'POST' || draft.operation.method === 'POST')
        draft.headers['idempotency-key'] = key as string;
    }),
  );

export function bodyNoise(operation: Operation): fc.Arbitrary<Change>[] {
  if (!operation.body) return [];
  const fields = fieldsOf(operation.body);
  const objectPaths: Path[] = [
    [],
    ...fields.filter((field) => typeOf(field.schema) === 'object').map((field) => field.path),
  ];
  const strings = fields.filter((field) => typeOf(field.schema) === 'string');
  const optional = fields.filter((field) => !field.required && typeOf(field.schema) !== 'object');
  const noise: fc.Arbitrary<Change>[] = [
    // Extra fields, at any level, never named like a field of the schema.
    fc
      .record({ at: fc.constantFrom(...objectPaths), key: extraKey, value: oddJson })
      .filter(({ at, key }) => {
        const schema = at.reduce<Schema | undefined>((node, name) => node?.properties?.[name], operation.body);
        return !(key in (schema?.properties ?? {}));
      })
      .map(({ at, key, value }) =>
        change(`extra field ${[...at, key].join('.')} = ${describeValue(value)}`, (draft) => {
          const target = getAt(draft.body.kind === 'json' ? draft.body.value : undefined, at);
          if (target && typeof target === 'object' && !Array.isArray(target) && !(target instanceof RawJson)) {
            Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
          }
        }),
      ),
    // A deeply nested extra field: the schema does not look inside it, but everything after may.
    nesting.map(({ depth, kind }) =>
      change(`extra field nested ${depth} deep (${kind}s)`, (draft) => {
        const target = draft.body.kind === 'json' ? draft.body.value : undefined;
        if (target && typeof target === 'object' && !Array.isArray(target) && !(target instanceof RawJson)) {
          Object.defineProperty(target, 'zz_nested', {
            value: deepJson(depth, kind),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
      }),
    ),
    // Pretty printing, a byte-order mark, whitespace around the document.
    fc
      .constantFrom<[string, number[]]>(['BOM', [0xef, 0xbb, 0xbf]], ['leading whitespace', [0x20, 0x0a, 0x09]])
      .map(([label, prefix]) =>
        change(label, (draft) => {
          if (draft.body.kind === 'json') draft.body.prefix = prefix;
        }),
      ),
    // A body just under the limit, the size coming from an extra field.
    fc.constantFrom(64, 4096).map((below) =>
      change(`body ${below} bytes under the limit`, (draft) => {
        if (draft.body.kind !== 'json' || !draft.body.value || typeof draft.body.value !== 'object') return;
        const size = encodeJson(draft.body.value).length;
        const pad = bodyLimitOf(operation) - below - size - 12;
        if (pad > 0)
          Object.defineProperty(draft.body.value, 'zz_pad', {
            value: 'p'.repeat(pad),
            enumerable: true,
            configurable: true,
            writable: true,
          });
      }),
    ),
  ];
  if (strings.length > 0) {
    noise.push(
      fc
        .constantFrom(...strings)
        .chain((field) => {
          const name = field.path[field.path.length - 1];
          const values =
            name === 'email'
              ? nastyEmail
              : name === 'timestamp' || name === 'to'
                ? oddInstant
                : fc.oneof(
                    nastyString,
                    fc.constantFrom(...BAD_UTF8).map((bytes) => new BadUtf8String(['fuzz', bytes, 'value'])),
                  );
          return values.map((value) => ({ field, value }));
        })
        .map(({ field, value }) =>
          change(`body.${field.path.join('.')} = ${describeValue(value)}`, (draft) => {
            setAt(draft, field.path, value);
          }),
        ),
    );
  }
  if (optional.length > 0) {
    noise.push(
      fc.constantFrom(...optional).map((field) =>
        change(`body.${field.path.join('.')} omitted`, (draft) => {
          deleteAt(draft, field.path);
        }),
      ),
    );
  }
  return noise;
}

/** Query parameters for reads: valid, invalid, repeated, odd; plus parameters nobody asked for. */
export function queryNoise(operation: Operation): fc.Arbitrary<Change> {
  const known = operation.query.map((parameter) => parameter.name);
  const valueFor = (name: string): fc.Arbitrary<string> => {
    switch (name) {
      case 'limit':
      case 'days':
        return fc.oneof(
          fc.integer({ min: 0, max: 101 }).map(String),
          fc.constantFrom('-1', '1.5', '1e3', '0x10', ' 5', 'abc', '', '9007199254740993', '1e400', '%00', 'NaN', '+3'),
        );
      case 'cursor':
        return oddCursor;
      case 'start':
      case 'end':
        return oddInstant;
      case 'granularity':
        return fc.constantFrom('hour', 'day', 'HOUR', 'minute', '', 'day\u0000', 'month');
      case 'to':
        return fc.oneof(nastyEmail, fc.constant('billing@example.com'));
      default:
        return fc.oneof(fc.string({ maxLength: 20 }), nastyString, fc.constantFrom('%', '_', '\\', '%_%', "'", 'org_'));
    }
  };
  const piece = fc.oneof(
    known.length > 0
      ? fc
          .constantFrom(...known)
          .chain((name) =>
            fc
              .array(valueFor(name), { minLength: 1, maxLength: 3 })
              .map((values) => values.map((value) => `${name}=${encode(value)}`)),
          )
      : fc.constant([] as string[]),
    fc.tuple(extraKey, nastyString).map(([key, value]) => [`${encode(key)}=${encode(value)}`]),
    fc
      .constantFrom(
        'limit[]=1',
        'limit[a]=1',
        'a=%',
        'b=%zz',
        '&&&',
        '=',
        '=x',
        'x',
        'cursor=%ff%fe',
        'query=%00',
        `pad=${'q'.repeat(20_000)}`,
      )
      .map((text) => [text]),
  );
  return fc.array(piece, { minLength: 1, maxLength: 4 }).map((pieces) => {
    const flat = pieces.flat();
    return change(`query ${flat.join('&').slice(0, 80)}`, (draft) => {
      draft.query.push(...flat);
    });
  });
}

/** For GETs: the same read as HEAD, or with a body a GET does not take. */
export const readNoise: fc.Arbitrary<Change> = fc.oneof(
  fc.constant(
    change('method HEAD', (draft) => {
      if (draft.method === 'GET') draft.method = 'HEAD';
    }),
  ),
  fc
    .record({
      contentType: fc.constantFrom('application/json', 'text/plain', 'application/xml'),
      payload: fc.constantFrom('{"a":1}', '{', 'x'.repeat(2 * 1024 * 1024)),
    })
    .map(({ contentType, payload }) =>
      change(`a ${payload.length}-byte ${contentType} body on a GET`, (draft) => {
        if (draft.body.kind === 'none') draft.body = { kind: 'raw', bytes: Buffer.from(payload), contentType };
      }),
    ),
);
