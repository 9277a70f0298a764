import Ajv from 'ajv';
import addFormats from 'ajv-formats';

/** One operation of the OpenAPI document: a method on a path template. */
export interface Operation {
  /** "METHOD /path/{param}", the key the tests' tables use. */
  key: string;
  method: string;
  path: string;
  pathParams: string[];
  /** Query parameters the operation requires. */
  requiredQuery: string[];
  /** The JSON schema of the request body, when the operation documents one. */
  bodySchema: Record<string, unknown> | undefined;
}

const METHODS = ['get', 'put', 'post', 'patch', 'delete'] as const;

/** Every operation in the document, in its order. */
export function operationsOf(document: { paths: Record<string, Record<string, any>> }): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const parameters: Array<{ in: string; name: string; required?: boolean }> = operation.parameters ?? [];
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        pathParams: parameters.filter((parameter) => parameter.in === 'path').map((parameter) => parameter.name),
        requiredQuery: parameters
          .filter((parameter) => parameter.in === 'query' && parameter.required)
          .map((parameter) => parameter.name),
        bodySchema: operation.requestBody?.content?.['application/json']?.schema,
      });
    }
  }
  return operations;
}

/** The path with every `{param}` replaced by its value; a param without a value is an error. */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${path}`);
    return encodeURIComponent(value);
  });
}

const ajv = new Ajv.default({ strict: false, allErrors: true });
addFormats.default(ajv);

/** Why the body does not match the operation's documented request body, or undefined when it does. */
export function bodyProblem(operation: Operation, body: unknown): string | undefined {
  if (!operation.bodySchema) return body === undefined ? undefined : 'the operation documents no request body';
  const validate = ajv.compile(operation.bodySchema);
  if (validate(body)) return undefined;
  return ajv.errorsText(validate.errors);
}
