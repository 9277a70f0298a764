/** The operations of the served OpenAPI document, in the shape the fuzzer generates requests from. */

/** The subset of JSON Schema that Tierline's TypeBox schemas produce. */
export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  default?: unknown;
  $ref?: string;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: Schema;
}

/**
 * Who may call an operation, read from its path (spec 12): the fuzzer needs it to send valid
 * credentials (so requests reach the handlers) and to know which credentials are certainly refused.
 */
export type Audience =
  | 'anyone' // no credentials needed
  | 'member' // a member of the org in the path: owner session or personal token
  | 'session' // a person's session (not a token): /v1/me/tokens, switch-org, logout
  | 'caller' // any logged-in caller: GET /v1/me
  | 'staff' // a staff session: /v1/admin/…
  | 'runtime'; // a runtime token: /v1/runtime/…

export interface Operation {
  /** "POST /v1/orgs/{org_id}/runtimes" */
  key: string;
  method: string;
  path: string;
  pathParams: Parameter[];
  query: Parameter[];
  body: Schema | undefined;
  audience: Audience;
  /** Reads change nothing even when valid: GETs, and the plan-change preview ("nothing written", spec 4). */
  isRead: boolean;
}

const ANYONE = new Set([
  'GET /healthz',
  'GET /readyz',
  'POST /v1/signup',
  'POST /v1/auth/login',
  'POST /v1/invitations/accept',
  'GET /v1/plans',
  'GET /v1/test-clock',
  'POST /v1/test-clock/advance',
]);
const SESSION = new Set([
  'POST /v1/auth/logout',
  'POST /v1/auth/switch-org',
  'POST /v1/me/tokens',
  'GET /v1/me/tokens',
  'DELETE /v1/me/tokens/{token_id}',
]);

function audienceOf(method: string, path: string): Audience {
  const key = `${method} ${path}`;
  if (ANYONE.has(key)) return 'anyone';
  if (SESSION.has(key)) return 'session';
  if (path === '/v1/me') return 'caller';
  if (path.startsWith('/v1/admin/')) return 'staff';
  if (path.startsWith('/v1/runtime/')) return 'runtime';
  if (path.startsWith('/v1/orgs/{org_id}')) return 'member';
  throw new Error(`The fuzzer does not know who may call ${key}: add it to tests/fuzz/openapi.ts.`);
}

function resolve(document: any, schema: Schema | undefined): Schema | undefined {
  if (!schema?.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  return resolve(document, document.components?.schemas?.[name]);
}

/** Every operation of the document, with its parameters and JSON body schema resolved. */
export function operationsOf(document: any): Operation[] {
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries<Record<string, any>>(document.paths)) {
    for (const [lower, operation] of Object.entries<any>(methods)) {
      const method = lower.toUpperCase();
      const parameters: Parameter[] = (operation.parameters ?? []).map((parameter: any) => ({
        name: parameter.name,
        in: parameter.in,
        required: parameter.required === true,
        schema: resolve(document, parameter.schema) ?? {},
      }));
      const body = resolve(document, operation.requestBody?.content?.['application/json']?.schema);
      const key = `${method} ${path}`;
      operations.push({
        key,
        method,
        path,
        pathParams: parameters.filter((parameter) => parameter.in === 'path'),
        query: parameters.filter((parameter) => parameter.in === 'query'),
        body,
        audience: audienceOf(method, path),
        isRead: method === 'GET' || key === 'POST /v1/orgs/{org_id}/subscription/preview',
      });
    }
  }
  return operations;
}

/** The route templates as regular expressions, to tell whether a URL with another method hits a route. */
export function routeMatcher(operations: Operation[]) {
  const routes = operations.map((operation) => ({
    method: operation.method,
    pattern: new RegExp(`^${operation.path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }));
  return (method: string, pathname: string) =>
    routes.some(
      (route) =>
        (route.method === method || (method === 'HEAD' && route.method === 'GET')) && route.pattern.test(pathname),
    );
}
