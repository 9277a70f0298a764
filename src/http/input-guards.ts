import type { FastifyReply, FastifyRequest } from 'fastify';
import { fail } from '../kernel/errors.ts';

/** How deep a JSON body may nest: Tierline's own bodies need four levels. */
export const MAX_BODY_DEPTH = 32;

/**
 * Refuses, with a 400 naming the place, what the schemas cannot: bodies nested deeper than
 * MAX_BODY_DEPTH, and text that PostgreSQL cannot store (a NUL character, a lone UTF-16 surrogate)
 * anywhere in the body, the path parameters or the query string. Walks without recursion.
 */
export async function refuseUnstorableInput(request: FastifyRequest) {
  check(request.params, 'path');
  check(request.query, 'query');
  check(request.body, 'body');
}

function problemOf(text: string): string | undefined {
  if (text.indexOf('\u0000') !== -1) return 'must not contain a NUL character';
  if (!text.isWellFormed()) return 'must be valid Unicode text';
  return undefined;
}

function check(root: unknown, place: 'path' | 'query' | 'body') {
  if (isStorable(root)) return;
  // Something is wrong: walk again, slowly, to name where.
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: root, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop() as { value: unknown; path: string; depth: number };
    const field = path || place;
    if (typeof value === 'string') {
      const problem = problemOf(value);
      if (problem) throw fail.validation(field, `The ${place === 'body' ? 'field' : place} ${field} ${problem}.`);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) {
      throw fail.validation(field, `The ${place} is nested too deeply: at most ${MAX_BODY_DEPTH} levels.`);
    }
    for (const [key, child] of Object.entries(value)) {
      const keyProblem = problemOf(key);
      if (keyProblem) throw fail.validation(path || place, `A name in the ${place} ${keyProblem}.`);
      stack.push({ value: child, path: path ? `${path}.${key}` : key, depth: depth + 1 });
    }
  }
}

/** The fast pass, on every request (usage reports hold thousands of values): no allocation per value. */
function isStorable(root: unknown): boolean {
  const values: unknown[] = [root];
  const depths: number[] = [0];
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop() as number;
    if (typeof value === 'string') {
      if (problemOf(value)) return false;
    } else if (value !== null && typeof value === 'object') {
      if (depth >= MAX_BODY_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          values.push(value[i]);
          depths.push(depth + 1);
        }
      } else {
        for (const key in value) {
          if (problemOf(key)) return false;
          values.push((value as Record<string, unknown>)[key]);
          depths.push(depth + 1);
        }
      }
    }
  }
  return true;
}

/** The router's own refusals (a malformed or over-long path) in the API's error shape. */
export function frameworkError(error: Error & { code?: string }, _request: FastifyRequest, reply: FastifyReply) {
  const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
  reply.code(tooLong ? 414 : 400).send({
    error: {
      code: tooLong ? 'uri_too_long' : 'bad_url',
      message: tooLong ? 'A part of the path is too long.' : 'The path is not a valid URL.',
    },
  });
}
