/** Defects: each one alone makes a request one the contract refuses (the schema, spec 4, 6, 8, 9, 10, 11). */
import fc from 'fast-check';
import { schemaValue } from './baseline.ts';
import {
  bodyLimitOf,
  type Change,
  type Credential,
  change,
  type Draft,
  deleteAt,
  describeValue,
  encode,
  fieldsOf,
  latin1,
  MIB,
  type Path,
  setAt,
  typeOf,
  UNSAFE,
} from './draft.ts';
import type { Operation, Schema } from './openapi.ts';
import {
  BAD_UTF8,
  deepJson,
  encodeJson,
  hex,
  invalidEmail,
  nastyEmail,
  nastyString,
  nesting,
  oddInstant,
  oddNumber,
  RawJson,
} from './values.ts';
import type { World } from './world.ts';

/** Values of the wrong JSON type for a field of this schema. */
function wrongType(schema: Schema): fc.Arbitrary<unknown> {
  const type = typeOf(schema);
  const candidates: fc.Arbitrary<unknown>[] = [
    fc.constant(null),
    nesting.map(({ depth, kind }) =>
      type === kind ? deepJson(depth, kind === 'array' ? 'object' : 'array') : deepJson(depth, kind),
    ),
  ];
  if (type !== 'string') candidates.push(nastyString, fc.constantFrom('1', 'true', '', '[]'));
  if (type !== 'integer' && type !== 'number') candidates.push(fc.integer(), oddNumber);
  if (type === 'integer') candidates.push(fc.constantFrom(1.5, -0.25, 3.000001), fc.constantFrom(new RawJson('1e400')));
  if (type !== 'boolean') candidates.push(fc.boolean());
  if (type !== 'array') candidates.push(fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }));
  if (type !== 'object')
    candidates.push(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }));
  return fc.oneof(...candidates);
}

/** Values outside the schema's bounds: too long or short, out of range, too many items, not in the enum. */
function outOfRange(schema: Schema): fc.Arbitrary<unknown> | undefined {
  const options: fc.Arbitrary<unknown>[] = [];
  const enumValues = schema.enum ?? schema.anyOf?.flatMap((option) => option.enum ?? []);
  if (enumValues && enumValues.length > 0) {
    options.push(
      fc
        .oneof(
          fc.constantFrom(...enumValues.map(String)).map((text) => text.toUpperCase()),
          fc.constantFrom(...enumValues.map(String)).map((text) => ` ${text}`),
          fc.constantFrom(...enumValues.map(String)).map((text) => `${text}\u0000`),
          fc.constantFrom('', 'gold', 'owner', 'superadmin', 'free ', '*'),
          nastyString,
        )
        .filter((text) => !enumValues.includes(text)),
    );
  }
  const type = typeOf(schema);
  if (type === 'string' && !enumValues) {
    const fill = fc.constantFrom('a', 'é', '😀', ' ', '\u0000');
    if (schema.maxLength !== undefined) {
      const max = schema.maxLength;
      options.push(
        fc
          .record({ fill, extra: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom(1_000, 100_000, 900_000)) })
          .map(({ fill: char, extra }) => char.repeat(max + extra)),
      );
    }
    if ((schema.minLength ?? 0) > 0) options.push(fc.constant('a'.repeat((schema.minLength ?? 1) - 1)));
  }
  if (type === 'integer' || type === 'number') {
    if (schema.minimum !== undefined) {
      const min = schema.minimum;
      options.push(fc.constantFrom(min - 1, -1e15 + min, -(2 ** 53)).filter((n) => n < min));
    }
    if (schema.maximum !== undefined) {
      const max = schema.maximum;
      options.push(fc.constantFrom(max + 1, max * 10 + 1, 2 ** 53 + 2).filter((n) => n > max));
    }
  }
  if (type === 'array') {
    const item = schema.items ? schemaValue(schema.items) : fc.constant(null);
    if (schema.maxItems !== undefined) {
      const max = schema.maxItems;
      options.push(item.map((value) => Array.from({ length: max + 1 }, () => value)));
    }
    if ((schema.minItems ?? 0) > 0) options.push(fc.constant([]));
    if (schema.items) {
      const wrongItem = schema.items;
      options.push(wrongType(wrongItem).map((bad) => [bad]));
    }
  }
  return options.length > 0 ? fc.oneof(...options) : undefined;
}

function bodySchemaDefects(operation: Operation): fc.Arbitrary<Change>[] {
  if (!operation.body) return [];
  const fields = fieldsOf(operation.body);
  const defects: fc.Arbitrary<Change>[] = [
    // The whole body is not an object. A body whose fields are all optional may be left out, and
    // JSON null reads as left out (bodyOptional in src/http/schemas.ts), though the document says required.
    wrongType(operation.body)
      .filter((value) => value !== null || (operation.body?.required?.length ?? 0) > 0)
      .map((value) =>
        change(`body is ${describeValue(value)}`, (draft) => {
          setAt(draft, [], value);
        }),
      ),
  ];
  const required = fields.filter((field) => field.required);
  if (required.length > 0) {
    defects.push(
      fc.constantFrom(...required).map((field) =>
        change(`body.${field.path.join('.')} missing`, (draft) => {
          deleteAt(draft, field.path);
        }),
      ),
    );
  }
  if (fields.length > 0) {
    defects.push(
      fc
        .constantFrom(...fields)
        .chain((field) => wrongType(field.schema).map((value) => ({ field, value })))
        .map(({ field, value }) =>
          change(`body.${field.path.join('.')} is ${describeValue(value)}`, (draft) => {
            setAt(draft, field.path, value);
          }),
        ),
    );
  }
  const bounded = fields.filter((field) => outOfRange(field.schema));
  if (bounded.length > 0) {
    defects.push(
      fc
        .constantFrom(...bounded)
        .chain((field) => (outOfRange(field.schema) as fc.Arbitrary<unknown>).map((value) => ({ field, value })))
        .map(({ field, value }) =>
          change(`body.${field.path.join('.')} out of range: ${describeValue(value)}`, (draft) => {
            setAt(draft, field.path, value);
          }),
        ),
    );
  }
  return defects;
}

/** Bodies that are not JSON, too large, or of a type the API does not take. */
function bodySyntaxDefects(operation: Operation): fc.Arbitrary<Change>[] {
  if (!UNSAFE.has(operation.method)) return [];
  const limit = bodyLimitOf(operation);
  const raw = (bytes: Buffer, contentType: string | undefined) => (draft: Draft) => {
    draft.body = { kind: 'raw', bytes, contentType };
  };
  const defects: fc.Arbitrary<Change>[] = [
    fc
      .constantFrom(
        '{',
        '{"a":',
        '{"a":1,}',
        "{'a':1}",
        '{a:1}',
        'NaN',
        '{"a":NaN}',
        '{"a":Infinity}',
        '{"a":undefined}',
        '[1,2',
        '{"a":1}{"b":2}',
        '{"a":1} x',
        '/* comment */ {}',
        '{"a":"raw \u0000 control"}',
        '{"a":"\\x41"}',
        '{"a":"\\u12"}',
        '{"__proto__":{"isAdmin":true}}',
        '{"constructor":{"prototype":{"isAdmin":true}}}',
        '\u0000',
        '\ufeff\ufeff{}',
        'null null',
        '"unterminated',
        '{"a":1}\u0000',
      )
      .map((text) => change(`invalid JSON ${JSON.stringify(text)}`, raw(Buffer.from(text), 'application/json'))),
    fc.constant(change('empty body with a JSON content type', raw(Buffer.alloc(0), 'application/json'))),
    // Bytes that are not UTF-8 between the tokens: never JSON, whatever the decoder replaces them with.
    fc.constantFrom(...BAD_UTF8).map((bytes) =>
      change(`bad UTF-8 ${Buffer.from(bytes).toString('hex')} outside strings`, (draft) => {
        const json = draft.body.kind === 'json' ? encodeJson(draft.body.value) : Buffer.from('{}');
        const at = json.indexOf('{') >= 0 ? json.indexOf('{') + 1 : 0;
        draft.body = {
          kind: 'raw',
          bytes: Buffer.concat([json.subarray(0, at), Buffer.from(bytes), json.subarray(at)]),
          contentType: 'application/json',
        };
      }),
    ),
    fc
      .record({
        over: fc.constantFrom(1, 1024, 3 * MIB),
        deep: fc.boolean(),
      })
      .map(({ over, deep }) =>
        change(`body ${over} bytes over the ${limit}-byte limit${deep ? ', deeply nested' : ''}`, (draft) => {
          const size = limit + over;
          const text = deep
            ? `{"a":${'['.repeat(Math.floor((size - 6) / 2))}${']'.repeat(Math.ceil((size - 6) / 2))}}`
            : `{"pad":"${'x'.repeat(size - 10)}"}`;
          draft.body = { kind: 'raw', bytes: Buffer.from(text), contentType: 'application/json' };
        }),
      ),
    fc
      .constantFrom(
        'application/xml',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=xyz',
        'application/octet-stream',
        'image/png',
        'application/json-patch+json',
        'text/html',
        'text/json',
        'aplication/json',
        'json',
        '*/*',
        'application/*',
      )
      .map((contentType) =>
        change(`content type ${contentType}`, (draft) => {
          const bytes = draft.body.kind === 'json' ? encodeJson(draft.body.value) : Buffer.from('{"a":1}');
          draft.body = { kind: 'raw', bytes, contentType };
        }),
      ),
  ];
  if (operation.body) {
    // A body schema wants an object: plain text parses to a string and fails it; so does no content type.
    defects.push(
      fc.constantFrom('text/plain', 'text/plain; charset=utf-8', undefined).map((contentType) =>
        change(`JSON sent as ${contentType ?? 'no content type'}`, (draft) => {
          const bytes = draft.body.kind === 'json' ? encodeJson(draft.body.value) : Buffer.from('{"a":1}');
          draft.body = { kind: 'raw', bytes, contentType };
        }),
      ),
    );
  }
  return defects;
}

/** Authorization headers that are malformed or carry no valid secret. */
const badAuthorization = (world: World) =>
  fc.oneof(
    fc.constantFrom(
      'Basic dXNlcjpwYXNz',
      'Bearer',
      'Bearer ',
      'Bearer a b',
      'Token abc',
      'Digest username="x", realm="y"',
      'Bearer tlp_',
      'Bearer tlp_unknown',
      'Bearer tlsa_unknown',
      'Bearer tlrt_unknown',
      'bearer TLP_UNKNOWN',
      `Bearer ${'A'.repeat(10_000)}`,
      `Bearer ${world.personalToken}x`,
      `Bearer ${world.personalToken.slice(0, -1)}`,
      `Bearer ${world.runtimeToken}x`,
      `Bearer ${world.systemToken.toUpperCase()}`,
      `Basic ${world.personalToken}`,
      `Bearer\t${world.personalToken} extra`,
      'Bearer \u00e9\u00ff',
      'Bearer tlp_\u00e9',
      'Bearer tlp_%00',
      'Bearer null',
      'Bearer undefined',
      ', ,',
    ),
    hex.map((text) => `Bearer tlp_${text}`),
    nastyString.map((text) => `Bearer ${latin1(text)}`),
  );

/** Credentials that are valid for someone, but not for this operation. */
function wrongCredentials(operation: Operation): Credential[] {
  switch (operation.audience) {
    case 'member':
      // Staff and another org's owner see another org's objects as 404; runtime tokens are not API callers.
      return ['staff', 'otherOwner', 'runtime'];
    case 'session':
      // A token is not a session; a staff session is not a member's (and logging staff out is valid).
      return operation.key === 'POST /v1/auth/logout'
        ? ['personal', 'system', 'runtime']
        : ['personal', 'system', 'staff', 'runtime'];
    case 'staff':
      return ['owner', 'member', 'personal', 'system', 'runtime'];
    case 'runtime':
      return ['owner', 'staff', 'personal', 'system'];
    default:
      return [];
  }
}

function credentialDefects(operation: Operation, world: World): fc.Arbitrary<Change>[] {
  if (operation.audience === 'anyone') return [];
  const defects: fc.Arbitrary<Change>[] = [
    fc
      .array(fc.constantFrom('tierline_session=', 'tierline_session=junk', 'other=1'), { maxLength: 2 })
      .map((cookies) =>
        change(`no credentials${cookies.length ? ` (cookies ${cookies.join('; ')})` : ''}`, (draft) => {
          draft.credential = 'none';
          draft.authorization = undefined;
          draft.cookies = [...cookies, ...draft.cookies.filter((cookie) => !cookie.startsWith('tierline_session'))];
        }),
      ),
    fc.record({ header: badAuthorization(world), keepCookie: fc.boolean() }).map(({ header, keepCookie }) =>
      change(`Authorization: ${header.slice(0, 60)}${keepCookie ? ' with a valid session cookie' : ''}`, (draft) => {
        draft.credential = keepCookie ? 'owner' : 'none';
        draft.authorization = header;
      }),
    ),
  ];
  const wrong = wrongCredentials(operation);
  if (wrong.length > 0) {
    defects.push(
      fc.constantFrom(...wrong).map((credential) =>
        change(`credentials of ${credential}`, (draft) => {
          draft.credential = credential;
          draft.authorization = undefined;
        }),
      ),
    );
  }
  if (UNSAFE.has(operation.method)) {
    const crossSite = fc.oneof(
      fc
        .record({
          site: fc.constantFrom('cross-site', 'same-site', 'CROSS-SITE', '', 'same-origin, cross-site', 'None'),
          origin: fc.option(fc.constantFrom('https://evil.example', 'null'), { nil: undefined }),
        })
        .map(({ site, origin }) => ({ 'sec-fetch-site': site, ...(origin ? { origin } : {}) })),
      fc
        .constantFrom(
          'https://evil.example',
          'null',
          'http://localhost.evil.example',
          'garbage',
          'http://localhost:81',
          'file://',
          'https://user:pass@evil.example:443',
        )
        .map((origin) => ({ origin })),
    );
    defects.push(
      crossSite.map((headers) =>
        change(`cross-site with a session cookie: ${JSON.stringify(headers)}`, (draft) => {
          draft.credential = operation.audience === 'staff' ? 'staff' : 'owner';
          draft.authorization = undefined;
          delete draft.headers['sec-fetch-site'];
          delete draft.headers.origin;
          delete draft.headers.host;
          Object.assign(draft.headers, headers);
        }),
      ),
    );
  }
  return defects;
}

/** Raw URL text for a path parameter that names no object this caller can see. */
function unknownParam(world: World): fc.Arbitrary<string> {
  const known = [...world.known];
  return fc
    .oneof(
      hex.map((text) => encode(`org_${text}`)),
      fc
        .constantFrom(world.ids.otherOrgId, world.ids.runtimeId, world.ids.invoiceId, world.ids.teamId)
        .map((id) => `${id}x`),
      nastyString.map(encode),
      nastyEmail.map(encode),
      fc.constantFrom(
        '%00',
        '%ff%fe',
        '%',
        '%zz',
        '%2F',
        'a%2Fb',
        '%C0%AF',
        '%E2%80%AE',
        '%u0041',
        'a/b',
        '%F0%9F%98%80',
        'é',
        '😀',
        'A'.repeat(65),
        'x'.repeat(5000),
        '%252e',
        ';x=1',
        'org_%0d%0aSet-Cookie:%20a=b',
      ),
    )
    .filter((text) => {
      let decoded = text;
      try {
        decoded = decodeURIComponent(text);
      } catch {
        // Not decodable: cannot name a real object.
      }
      const normalized = decoded.trim().toLowerCase();
      return (
        !known.some((value) => value === decoded || value.toLowerCase() === normalized) &&
        !/(^|\/)\.\.?(\/|$)/.test(decoded)
      );
    });
}

function pathDefects(operation: Operation, world: World): fc.Arbitrary<Change>[] {
  if (operation.pathParams.length === 0) return [];
  return [
    fc
      .record({
        name: fc.constantFrom(...operation.pathParams.map((parameter) => parameter.name)),
        value: unknownParam(world),
      })
      .map(({ name, value }) =>
        change(`path {${name}} = ${value.slice(0, 60)}`, (draft) => {
          draft.params[name] = value;
        }),
      ),
  ];
}

function methodDefects(
  operation: Operation,
  matches: (method: string, path: string) => boolean,
): fc.Arbitrary<Change>[] {
  const concrete = operation.path.replace(/\{[^}]+\}/g, 'x');
  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH'].filter(
    (method) => !matches(method, concrete),
  );
  return [
    fc.constantFrom(...methods).map((method) =>
      change(`method ${method}`, (draft) => {
        draft.method = method;
      }),
    ),
  ];
}

/** Whether Date reads the text as an instant in [from, to]: what parseInstant accepts is a subset of that. */
function isInstantBetween(text: string, from: number, to: number): boolean {
  const value = Date.parse(text);
  return !Number.isNaN(value) && value >= from && value <= to;
}

/** Refusals the contract names for this operation beyond its schema (spec 4, 6, 8, 9, 10). */
function semanticDefects(operation: Operation, world: World): fc.Arbitrary<Change>[] {
  const set = (path: Path, values: fc.Arbitrary<unknown>, label: string) =>
    values.map((value) =>
      change(`${label}: body.${path.join('.')} = ${describeValue(value)}`, (draft) => {
        setAt(draft, path, value);
      }),
    );
  const param = (name: string, values: string[], label: string) =>
    fc.constantFrom(...values).map((value) =>
      change(`${label}: {${name}} = ${value}`, (draft) => {
        draft.params[name] = encode(value);
      }),
    );
  // Passwords are counted in code points (identity.ts): one binary unit is one code point.
  const shortPassword = fc.string({ minLength: 1, maxLength: 7, unit: 'binary' });
  const longPassword = fc.integer({ min: 129, max: 1024 }).map((length) => 'p'.repeat(length));
  const wrongPassword = fc
    .string({ minLength: 8, maxLength: 40 })
    .filter((text) => text !== world.owner.password && text !== 'admin-password-1');
  const blank = fc.constantFrom(' ', '   ', '\t', '\n', '\u00a0'.trim() || ' ');
  const badPassword = fc.oneof(shortPassword, longPassword);
  const taken = fc.constantFrom(world.owner.email, world.owner.email.toUpperCase(), ` ${world.owner.email} `);
  switch (operation.key) {
    case 'POST /v1/signup':
      return [
        set(['password'], badPassword, 'password not 8 to 128 characters'),
        set(['email'], invalidEmail, 'not an email address'),
        set(['full_name'], blank, 'blank full name'),
        set(['org_name'], blank, 'blank org name'),
        fc.record({ email: taken, password: wrongPassword }).map(({ email, password }) =>
          change(`email of an existing user with a wrong password (${email})`, (draft) => {
            setAt(draft, ['email'], email);
            setAt(draft, ['password'], password);
          }),
        ),
        fc.constantFrom(world.ids.lockedEmail, world.ids.lockedEmail.toUpperCase()).map((email) =>
          change(`locked email ${email}`, (draft) => {
            setAt(draft, ['email'], email);
          }),
        ),
      ];
    case 'POST /v1/auth/login':
      return [
        set(['password'], wrongPassword, 'wrong password'),
        set(
          ['email'],
          hex.map((text) => `nobody-${text}@example.com`),
          'unknown email',
        ),
        set(
          ['org_id'],
          fc.constantFrom(world.ids.otherOrgId, world.ids.deactivatedOrgId, 'org_unknown', '\u0000'),
          'not a member',
        ),
      ];
    case 'POST /v1/auth/switch-org':
      return [set(['org_id'], fc.constantFrom(world.ids.otherOrgId, 'org_unknown', '\u0000', ' '), 'not a member')];
    case 'POST /v1/me/tokens':
    case 'POST /v1/orgs/{org_id}/system-accounts':
    case 'POST /v1/orgs/{org_id}/system-accounts/{system_account_id}/tokens':
    case 'POST /v1/orgs/{org_id}/runtimes':
      return [set(['name'], blank, 'blank name')];
    case 'POST /v1/admin/staff':
      return [
        set(['password'], badPassword, 'password not 8 to 128 characters'),
        set(['email'], invalidEmail, 'not an email address'),
        set(['email'], fc.constantFrom('admin@tierline.test', world.owner.email, world.member.email), 'email taken'),
      ];
    case 'DELETE /v1/orgs/{org_id}/members/{user_id}':
      return [param('user_id', [world.owner.userId], 'the owner cannot be removed')];
    case 'POST /v1/orgs/{org_id}/owner-transfer':
      return [
        set(
          ['user_id'],
          fc.constantFrom(world.owner.userId, world.otherOwner.userId, 'usr_unknown'),
          'not another member',
        ),
      ];
    case 'POST /v1/orgs/{org_id}/teams':
      return [
        set(['name'], blank, 'blank name'),
        set(
          ['name'],
          fc.constantFrom(world.ids.teamName, ` ${world.ids.teamName} `, world.ids.otherTeamName),
          'name taken',
        ),
      ];
    case 'PATCH /v1/orgs/{org_id}/teams/{team_id}':
      return [
        fc.constant(change('neither name nor roles', (draft) => setAt(draft, [], {}))),
        set(['name'], blank, 'blank name'),
        set(['name'], fc.constantFrom(world.ids.otherTeamName, ` ${world.ids.otherTeamName}`), 'name taken'),
      ];
    case 'PUT /v1/orgs/{org_id}/teams/{team_id}/members/{user_id}':
      return [param('user_id', [world.otherOwner.userId], 'not a member of the org')];
    case 'DELETE /v1/orgs/{org_id}/teams/{team_id}/members/{user_id}':
      return [param('user_id', [world.owner.userId, world.otherOwner.userId], 'not in the team')];
    case 'POST /v1/orgs/{org_id}/invitations':
      return [
        set(['email'], invalidEmail, 'not an email address'),
        set(['email'], fc.constantFrom(world.member.email, world.owner.email.toUpperCase()), 'already a member'),
      ];
    case 'POST /v1/invitations/accept':
      return [
        set(['token'], fc.oneof(hex, nastyString, fc.constant(`${world.ids.invitationToken}x`)), 'unknown token'),
        set(['password'], badPassword, 'password not 8 to 128 characters'),
        set(['full_name'], blank, 'blank full name'),
      ];
    case 'PUT /v1/orgs/{org_id}/control-plane/config':
      return [
        set(
          ['routes', '0', 'upstream_url'],
          fc.constantFrom(
            'ftp://x.example',
            'javascript:alert(1)',
            'not a url',
            '//x',
            'http//x',
            'file:///etc/passwd',
          ),
          'not an http(s) upstream',
        ),
        set(['routes', '0', 'path_prefix'], fc.constantFrom('api', ' /api', '*', '\u0000'), 'prefix without /'),
        fc.constant(
          change('a path prefix twice', (draft) => {
            setAt(
              draft,
              ['routes'],
              [
                { path_prefix: '/a', upstream_url: 'https://u.example.com' },
                { path_prefix: '/a', upstream_url: 'https://v.example.com' },
              ],
            );
          }),
        ),
      ];
    case 'POST /v1/admin/orgs/{org_id}/control-plane/decommission':
      return [
        set(['reason'], blank, 'blank reason'),
        param('org_id', [world.ids.deactivatedOrgId], 'already decommissioned'),
      ];
    case 'POST /v1/runtime/usage': {
      const old = new Date(Date.parse(world.now) - 36 * 86_400_000).toISOString();
      const ahead = new Date(Date.parse(world.now) + 6 * 60_000).toISOString();
      // Accepted: from 35 days back to 5 minutes ahead (spec 6); a minute of margin either side.
      const earliest = Date.parse(world.now) - 35 * 86_400_000 - 60_000;
      const latest = Date.parse(world.now) + 6 * 60_000;
      return [
        set(
          ['usage', '0', 'timestamp'],
          fc.oneof(
            fc.constantFrom(old, ahead),
            oddInstant.filter((text) => !isInstantBetween(text, earliest, latest)),
          ),
          'timestamp out of range',
        ),
      ];
    }
    case 'POST /v1/orgs/{org_id}/payment-methods':
      return [
        set(
          ['card', 'number'],
          fc.constantFrom('4000000000000002', '4242424242424241', '4242 4242 4242 4242x', 'abcdefghijklmnop'),
          'card refused',
        ),
        set(['card', 'exp_year'], fc.integer({ min: 2000, max: 2026 }), 'card expired'),
        set(['card', 'cvc'], fc.constantFrom('abc', '12a', '1 2', '١٢٣'), 'cvc not digits'),
        fc
          .constantFrom<Path>(
            ['billing_details', 'name'],
            ['billing_details', 'address', 'line1'],
            ['billing_details', 'address', 'city'],
            ['billing_details', 'address', 'postal_code'],
          )
          .chain((path) => set(path, blank, 'blank billing field')),
        set(['billing_details', 'email'], invalidEmail, 'billing email not an email'),
      ];
    case 'POST /v1/orgs/{org_id}/subscription':
      return [
        set(['plan'], fc.constantFrom('enterprise', 'free'), 'not self-serve'),
        set(
          ['payment_method_id'],
          fc.constantFrom('pm_unknown', `${world.ids.paymentMethodId}x`),
          'unknown payment method',
        ),
      ];
    case 'POST /v1/orgs/{org_id}/sales-inquiries':
      return [
        fc.constantFrom('name', 'company', 'message').chain((field) => set([field], blank, 'blank field')),
        set(['email'], invalidEmail, 'not an email address'),
      ];
    case 'PUT /v1/admin/orgs/{org_id}/subscription':
      return [
        fc.constant(
          change('enterprise without terms', (draft) => {
            setAt(draft, ['plan'], 'enterprise');
            deleteAt(draft, ['terms']);
          }),
        ),
        set(
          ['payment_method_id'],
          fc.constantFrom('pm_unknown', `${world.ids.paymentMethodId}x`),
          'unknown payment method',
        ),
        param('org_id', [world.ids.deactivatedOrgId], 'deactivated org'),
      ];
    case 'POST /v1/admin/orgs/{org_id}/deactivate':
      return [
        set(['reason'], fc.oneof(blank, fc.constant('')), 'blank reason'),
        param('org_id', [world.ids.deactivatedOrgId], 'already deactivated'),
      ];
    case 'POST /v1/admin/orgs/{org_id}/reactivate':
      return [param('org_id', [world.ids.orgId, world.ids.otherOrgId], 'already active')];
    case 'POST /v1/test-clock/advance': {
      const past = new Date(Date.parse(world.now) - 1).toISOString();
      return [
        set(
          ['to'],
          fc.oneof(
            fc.constantFrom(past, '2000-01-01T00:00:00Z', 'soon'),
            oddInstant.filter((text) => !isInstantBetween(text, Date.parse(world.now), Number.POSITIVE_INFINITY)),
          ),
          'not a later instant',
        ),
      ];
    }
    default:
      return [];
  }
}

/** Every defect that applies to the operation. */
export function defectsFor(
  operation: Operation,
  world: World,
  matches: (method: string, path: string) => boolean,
): fc.Arbitrary<Change>[] {
  return [
    ...bodySchemaDefects(operation),
    ...bodySyntaxDefects(operation),
    ...credentialDefects(operation, world),
    ...pathDefects(operation, world),
    ...methodDefects(operation, matches),
    ...semanticDefects(operation, world),
  ];
}
