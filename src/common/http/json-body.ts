import { BadRequestException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import secureJsonParse from 'secure-json-parse';

type Done = (error: Error | null, body?: unknown) => void;
export type JsonBodyParser = (request: FastifyRequest, body: string | Buffer, done: Done) => void;

/** As Fastify's default JSON parser is set up (`onProtoPoisoning` and `onConstructorPoisoning`: error). */
const PARSE_OPTIONS = { protoAction: 'error', constructorAction: 'error' } as const;

const FORBIDDEN = 'The body holds a forbidden property name: "__proto__", or "constructor" with "prototype" inside it.';

/**
 * The app's JSON body parser: Fastify's own (secure-json-parse: `__proto__` and
 * `constructor.prototype` refused), with the reason in the 400 it answers: Fastify says "not valid
 * JSON" for both a syntax error and a forbidden property name. The reason names where the syntax
 * breaks (a character position) but never quotes the body, which may hold a key or a secret. An
 * empty body is no body, as without the header (Fastify refuses it): clients and scripts that send
 * `Content-Type: application/json` on every request, a DELETE or a rotation without options
 * included, are served; a route that needs a body then names its missing fields. Both Fastify
 * instances of the app (see hot-door.ts) parse JSON with it, and the lean lane with `parseJsonBody`.
 */
export function explainingJsonParser(): JsonBodyParser {
  return (_request, body, done) => {
    let value: unknown;
    try {
      // Nest hands the app's parser a Buffer, the hot instance a string.
      value = body.length === 0 ? undefined : parseJsonBody(typeof body === 'string' ? body : body.toString('utf8'));
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    done(null, value);
  };
}

/** A JSON body's value, or a 400 saying why it has none (see explainingJsonParser). */
export function parseJsonBody(text: string): unknown {
  try {
    return secureJsonParse(text, PARSE_OPTIONS);
  } catch {
    throw new BadRequestException(jsonBodyProblem(text));
  }
}

/** Why a body that secure-json-parse refused was refused. */
export function jsonBodyProblem(text: string): string {
  try {
    // As secure-json-parse reads it: a byte-order mark first is allowed.
    JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    // V8 counts from 0; people count characters from 1.
    return position === undefined ? 'The body is not valid JSON.' : `The body is not valid JSON (at character ${Number(position) + 1}).`;
  }
  return FORBIDDEN;
}
