/** A fuzzed request while it is built (Draft) and as it is sent (FuzzRequest), and the body helpers both use. */
import fc from 'fast-check';
import type { Operation, Schema } from './openapi.ts';
import { BadUtf8String, encodeJson, RawJson } from './values.ts';
import type { World } from './world.ts';

/** Whose credentials a request carries. */
export type Credential = 'none' | 'owner' | 'member' | 'otherOwner' | 'staff' | 'personal' | 'system' | 'runtime';

export type Body =
  | { kind: 'none' }
  | { kind: 'json'; value: unknown; contentType: string; indent: string; prefix: number[] }
  | { kind: 'raw'; bytes: Buffer; contentType: string | undefined };

/** A request being built: a valid baseline, then noise, then the defects that make it malformed. */
export interface Draft {
  operation: Operation;
  method: string;
  /** URL text of each path parameter (already encoded). */
  params: Record<string, string>;
  /** "name=value" pieces of the query string (already encoded). */
  query: string[];
  credential: Credential;
  /** An Authorization header replacing the credential's. */
  authorization?: string;
  cookies: string[];
  headers: Record<string, string | string[]>;
  body: Body;
  remoteAddress?: string;
  defects: string[];
  noise: string[];
}

/** One change to a draft, with a label for the counterexample. */
export interface Change {
  label: string;
  apply(draft: Draft): void;
}

/** What is sent, and what makes it malformed. */
export interface FuzzRequest {
  operation: string;
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  payload?: Buffer;
  remoteAddress?: string;
  /** Why it must be refused; empty for a request that may be valid. */
  defects: string[];
  noise: string[];
  [fc.toStringMethod](): string;
}

export const MIB = 1024 * 1024;
/** Body limits: 1 MiB, 4 MiB for usage reports (set on the route, not in the OpenAPI document). */
export const bodyLimitOf = (operation: Operation) => (operation.path === '/v1/runtime/usage' ? 4 * MIB : MIB);

export const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** URL-encodes text as a client would: a lone surrogate, which UTF-8 cannot carry, becomes U+FFFD. */
export const encode = (text: string) => encodeURIComponent(text.toWellFormed());
export const change = (label: string, apply: (draft: Draft) => void): Change => ({ label, apply });

export type Path = string[];

export interface FieldInfo {
  path: Path;
  schema: Schema;
  required: boolean;
}

export function typeOf(schema: Schema): string {
  if (schema.type) return schema.type;
  if (schema.anyOf?.every((option) => option.type === 'string')) return 'string';
  if (schema.allOf) return 'object';
  return 'any';
}

/** Every field of a body schema, depth first (array items appear as index 0). */
export function fieldsOf(schema: Schema | undefined, path: Path = []): FieldInfo[] {
  if (!schema) return [];
  const fields: FieldInfo[] = [];
  if (schema.properties) {
    for (const [name, property] of Object.entries(schema.properties)) {
      const child = [...path, name];
      fields.push({ path: child, schema: property, required: schema.required?.includes(name) ?? false });
      fields.push(...fieldsOf(property, child));
    }
  }
  if (schema.type === 'array' && schema.items?.properties) fields.push(...fieldsOf(schema.items, [...path, '0']));
  return fields;
}

export function getAt(value: unknown, path: Path): unknown {
  let node: any = value;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = node[key];
  }
  return node;
}

/** The container of the path's last key, only if every step exists: changes never create structure. */
export function parentOf(value: unknown, path: Path): Record<string, unknown> | undefined {
  const parent = getAt(value, path.slice(0, -1));
  if (parent === null || typeof parent !== 'object' || parent instanceof RawJson || parent instanceof BadUtf8String) {
    return undefined;
  }
  return parent as Record<string, unknown>;
}

export function setAt(draft: Draft, path: Path, next: unknown): boolean {
  if (draft.body.kind !== 'json') return false;
  if (path.length === 0) {
    draft.body.value = next;
    return true;
  }
  const parent = parentOf(draft.body.value, path);
  if (!parent) return false;
  Object.defineProperty(parent, path[path.length - 1], {
    value: next,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return true;
}

export function deleteAt(draft: Draft, path: Path): boolean {
  if (draft.body.kind !== 'json') return false;
  const parent = parentOf(draft.body.value, path);
  if (!parent || !(path[path.length - 1] in parent)) return false;
  delete parent[path[path.length - 1]];
  return true;
}

export function clone<T>(value: T): T {
  if (value instanceof RawJson || value instanceof BadUtf8String || value === null || typeof value !== 'object') {
    return value;
  }
  if (Array.isArray(value)) return value.map(clone) as T;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    Object.defineProperty(copy, key, { value: clone(item), enumerable: true, writable: true, configurable: true });
  }
  return copy as T;
}

/** Header text as Node would hand it over: UTF-8 bytes read as Latin-1, no CR, LF or NUL. */
export function latin1(text: string): string {
  return Buffer.from(text, 'utf8')
    .toString('latin1')
    .replace(/[\r\n\0]/g, '');
}

export function describeValue(value: unknown): string {
  if (value instanceof RawJson || value instanceof BadUtf8String) return String(value.toJSON());
  if (typeof value === 'string' && value.length > 60)
    return `${JSON.stringify(value.slice(0, 20))}… (${value.length} chars)`;
  const text =
    JSON.stringify(value, (_key, item) =>
      typeof item === 'string' && item.length > 60 ? `${item.slice(0, 20)}…(${item.length})` : item,
    ) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

export function credentialHeaders(credential: Credential, world: World): { cookie?: string; authorization?: string } {
  switch (credential) {
    case 'none':
      return {};
    case 'owner':
      return { cookie: world.owner.cookie };
    case 'member':
      return { cookie: world.member.cookie };
    case 'otherOwner':
      return { cookie: world.otherOwner.cookie };
    case 'staff':
      return { cookie: world.staffCookie };
    case 'personal':
      return { authorization: `Bearer ${world.personalToken}` };
    case 'system':
      return { authorization: `Bearer ${world.systemToken}` };
    case 'runtime':
      return { authorization: `Bearer ${world.runtimeToken}` };
  }
}

export function finish(draft: Draft, world: World): FuzzRequest {
  const path = draft.operation.path.replace(/\{([^}]+)\}/g, (_whole, name: string) => draft.params[name] ?? '');
  const url = draft.query.length > 0 ? `${path}?${draft.query.join('&')}` : path;
  const headers: Record<string, string | string[]> = { ...draft.headers };
  const credential = credentialHeaders(draft.credential, world);
  const cookies = [...(credential.cookie ? [credential.cookie] : []), ...draft.cookies];
  if (cookies.length > 0) headers.cookie = cookies.join('; ');
  const authorization = draft.authorization ?? credential.authorization;
  if (authorization !== undefined) headers.authorization = authorization;
  let payload: Buffer | undefined;
  if (draft.body.kind === 'json') {
    payload = Buffer.concat([Buffer.from(draft.body.prefix), encodeJson(draft.body.value, draft.body.indent)]);
    headers['content-type'] = draft.body.contentType;
  } else if (draft.body.kind === 'raw') {
    payload = draft.body.bytes;
    if (draft.body.contentType !== undefined) headers['content-type'] = draft.body.contentType;
  }
  const request: FuzzRequest = {
    operation: draft.operation.key,
    method: draft.method,
    url,
    headers,
    payload,
    remoteAddress: draft.remoteAddress,
    defects: draft.defects,
    noise: draft.noise,
    [fc.toStringMethod]: () => summarize(request),
  };
  return request;
}

/** A short, readable account of a request, for counterexamples and reports. */
export function summarize(request: FuzzRequest): string {
  const headers = Object.entries(request.headers)
    .map(([name, value]) => {
      const text = Array.isArray(value) ? JSON.stringify(value) : value;
      return `${name}: ${text.length > 100 ? `${text.slice(0, 100)}… (${text.length} chars)` : text}`;
    })
    .join('\n    ');
  const body = request.payload
    ? `${JSON.stringify(request.payload.subarray(0, 300).toString('latin1'))}${request.payload.length > 300 ? `… (${request.payload.length} bytes)` : ''}`
    : '(none)';
  return [
    `${request.method} ${request.url.length > 300 ? `${request.url.slice(0, 300)}… (${request.url.length} chars)` : request.url}`,
    `  headers:\n    ${headers || '(none)'}`,
    `  body: ${body}`,
    request.remoteAddress ? `  from: ${request.remoteAddress}` : '',
    `  defects: ${request.defects.join('; ') || '(none: it may be valid)'}`,
    `  noise: ${request.noise.join('; ') || '(none)'}`,
  ]
    .filter(Boolean)
    .join('\n');
}
