import fc from 'fast-check';

/** A JSON token written as is: numbers past double precision, 1e400, deep nesting built as text. */
export class RawJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  toJSON() {
    return this.text.length > 80 ? `<raw JSON, ${this.text.length} chars: ${this.text.slice(0, 40)}…>` : this.text;
  }
}

/** A JSON string whose UTF-8 holds invalid byte sequences between its text parts. */
export class BadUtf8String {
  readonly parts: Array<string | number[]>;
  constructor(parts: Array<string | number[]>) {
    this.parts = parts;
  }
  toJSON() {
    return `<bad UTF-8 string: ${JSON.stringify(this.parts)}>`;
  }
}

/** Serializes a body value to bytes, writing RawJson and BadUtf8String leaves as they are. */
export function encodeJson(value: unknown, indent = ''): Buffer {
  const chunks: Buffer[] = [];
  const write = (text: string) => chunks.push(Buffer.from(text, 'utf8'));
  const step = (node: unknown, pad: string) => {
    const inner = indent ? `${pad}${indent}` : '';
    const newline = indent ? '\n' : '';
    if (node instanceof RawJson) write(node.text);
    else if (node instanceof BadUtf8String) {
      write('"');
      for (const part of node.parts) {
        if (typeof part === 'string') write(JSON.stringify(part).slice(1, -1));
        else chunks.push(Buffer.from(part));
      }
      write('"');
    } else if (Array.isArray(node)) {
      write(`[${newline}`);
      node.forEach((item, index) => {
        if (index > 0) write(`,${newline}`);
        write(inner);
        step(item, inner);
      });
      write(`${newline}${pad}]`);
    } else if (node !== null && typeof node === 'object') {
      write(`{${newline}`);
      Object.entries(node).forEach(([key, item], index) => {
        if (index > 0) write(`,${newline}`);
        write(`${inner}${JSON.stringify(key)}:${indent ? ' ' : ''}`);
        step(item, inner);
      });
      write(`${newline}${pad}}`);
    } else write(JSON.stringify(node) ?? 'null');
  };
  step(value, '');
  return Buffer.concat(chunks);
}

/** Byte sequences that are not UTF-8. */
export const BAD_UTF8: number[][] = [
  [0xff],
  [0xfe, 0xff],
  [0x80],
  [0xc0, 0xaf], // overlong "/"
  [0xe0, 0x80, 0xaf], // overlong "/"
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded in UTF-8
  [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
  [0xc3], // truncated two-byte sequence
  [0xf0, 0x9f, 0x98], // truncated emoji
  [0xf8, 0x88, 0x80, 0x80, 0x80], // five-byte form
];

/**
 * Strings a schema may well accept but a database, a parser or a regex may not: NUL, lone
 * surrogates, bidi and zero-width characters, control characters, injections, odd case folding.
 */
export const NASTY_STRINGS = [
  '\u0000',
  'a\u0000b',
  'trailing nul\u0000',
  '\ud800',
  'lone low \udfff surrogate',
  'a\ud83d',
  '😀👩‍👩‍👧‍👦🏳️‍🌈',
  'e\u0301\u0301\u0301',
  '\u202eevil\u202c',
  '\u200b\u200c\u200d\u2060',
  '\ufeffbom',
  ' ',
  '\t\n\r\u000b\u000c',
  '\u0001\u0002\u001f\u007f\u0085',
  '\u2028\u2029',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  'true',
  '[]',
  '{}',
  '%00',
  '%s%n%x%d',
  '../../../../etc/passwd',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  "'; drop table users; --",
  '\\',
  '\\u0000',
  '"',
  `\${jndi:ldap://x/a}`,
  '{{7*7}}',
  'ＡＢＣ＠ｅｘａｍｐｌｅ．ｃｏｍ',
  'İıſß',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  '\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000',
  '%',
  '_%',
  '*',
  '.',
  '..',
  'org_',
  'a'.repeat(64),
  '\u00e9\u00ff',
];

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...NASTY_STRINGS), fc.string({ unit: 'binary-ascii', maxLength: 8 }))
      .map(([nasty, text]) => `${text}${nasty}${text}`),
  },
);

/** Email-shaped strings that are unusual: NUL, unicode, case and spaces, quoted parts, long parts. */
export const nastyEmail: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'a\u0000@example.com',
    'nul@exa\u0000mple.com',
    '\ud800@example.com',
    'x@ｅｘａｍｐｌｅ.com',
    ' Spaced@Example.COM ',
    '"quoted local"@example.com',
    'x+tag@example.com',
    `${'l'.repeat(240)}@example.com`,
    'a@b.c',
    'über@münchen.de',
    'x@[127.0.0.1]',
    '%00@example.com',
    "o'brien@example.com",
    'a@b.co\u202e',
  ),
  fc.tuple(nastyString, nastyString).map(([local, domain]) => `${local}@${domain}.com`),
);

/** Strings that are not email addresses to isValidEmail-like checks. */
export const invalidEmail = fc.constantFrom(
  'plainaddress',
  'a@b',
  'a b@example.com',
  '@example.com',
  'x@',
  'x@@example.com',
  'x@example.com@example.com',
  '   ',
  'x@exam ple.com',
);

/** Instants that are odd, out of range, or not RFC 3339 at all (at most 40 characters). */
export const oddInstant = fc.oneof(
  fc.constantFrom(
    '2027-02-30T00:00:00Z',
    '2027-13-01T00:00:00Z',
    '2027-01-01T24:00:00Z',
    '2027-01-01T00:00:60Z',
    '2027-01-01T00:00:00+14:00',
    '2027-01-01T00:00:00-23:59',
    '2027-01-01t00:00:00z',
    '2027-01-01 00:00:00Z',
    '2027-01-01T00:00:00.123456789Z',
    '2027-01-01',
    '+275760-09-13T00:00:00.000Z',
    '-271821-04-20T00:00:00.000Z',
    '+275760-09-13T00:00:00.001Z',
    '0000-01-01T00:00:00Z',
    '-000001-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999Z',
    '1970-01-01T00:00:00Z',
    '1969-12-31T23:59:59.999Z',
    '1',
    '0',
    '-1',
    'now',
    '',
    'Infinity',
    '2027-01-01T00:00:00\u0000Z',
    '２０２７-01-01T00:00:00Z',
    'Sat, 01 Jan 2027 00:00:00 GMT',
    '2027-W01-1',
    '1798761600000',
  ),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  nastyString.map((text) => text.slice(0, 40)),
);

/** Numbers a JSON integer field should refuse: fractions, huge, beyond double precision, -0. */
export const oddNumber: fc.Arbitrary<number | RawJson> = fc.oneof(
  fc.constantFrom<number | RawJson>(
    1.5,
    -0.000001,
    2 ** 31,
    2 ** 53,
    -(2 ** 53),
    1e308,
    -1e308,
    new RawJson('9007199254740993'),
    new RawJson('1e400'),
    new RawJson('-1e400'),
    new RawJson('1E+2'),
    new RawJson('123456789012345678901234567890'),
    new RawJson('0.1e-400'),
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Nested arrays or objects, `depth` levels deep, written as text (JSON.stringify would overflow the stack). */
export function deepJson(depth: number, kind: 'array' | 'object'): RawJson {
  if (kind === 'array') return new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`);
  return new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

export const nesting = fc.record({
  depth: fc.constantFrom(2, 64, 1_000, 5_000, 20_000, 100_000, 300_000),
  kind: fc.constantFrom<'array' | 'object'>('array', 'object'),
});

/** Any JSON value, with the unusual ones well represented: used for extra fields and wrong types. */
export const oddJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: nastyString },
  { weight: 1, arbitrary: oddNumber },
  { weight: 1, arbitrary: nesting.map(({ depth, kind }) => deepJson(depth, kind)) },
  {
    weight: 1,
    arbitrary: fc
      .record({ char: fc.constantFrom('a', 'é', '😀', '\u0000'), length: fc.constantFrom(1_000, 70_000, 500_000) })
      .map(({ char, length }) => char.repeat(length)),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...BAD_UTF8).map((bytes) => new BadUtf8String(['x', bytes, 'y'])),
  },
);

/** Keys for extra fields: ordinary, unusual, and the ones prototype pollution uses. */
export const extraKey = fc.oneof(
  { weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
  { weight: 1, arbitrary: nastyString },
  {
    weight: 1,
    arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', 'id', 'org'),
  },
);

/** Base64url cursors that decode to odd instants and ids: the decoder accepts anything Date accepts. */
export const oddCursor = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(oddInstant, fc.oneof(nastyString, fc.constant('org_x')))
      .map(([instant, id]) => Buffer.from(`${instant}|${id}`).toString('base64url')),
  },
  fc.string({ maxLength: 60 }),
  fc.constantFrom('', '=', '%%%', 'AAAA', '||||', Buffer.from('|').toString('base64url'), 'x'.repeat(201)),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('base64url')),
);

/** Remote addresses the app may see: IPv4, IPv6, mapped and odd forms. */
export const remoteAddress = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom('127.0.0.1', '::1', '::ffff:10.0.0.1', '0.0.0.0', 'fe80::1%eth0'),
);

/** Eight hex digits: fresh names, unknown ids. */
export const hex = fc.stringMatching(/^[0-9a-f]{8}$/);
