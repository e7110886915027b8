import { BadRequestException } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';

type Done = (error: Error | null, body?: unknown) => void;
export type JsonBodyParser = (request: FastifyRequest, body: string | Buffer, done: Done) => void;

const FORBIDDEN = 'The body holds a forbidden property name: "__proto__", or "constructor" with "prototype" inside it.';

/**
 * Fastify's own JSON parser (secure-json-parse: `__proto__` and `constructor.prototype` refused),
 * with the reason in the 400 it answers: Fastify says "not valid JSON" for both a syntax error and
 * a forbidden property name. The reason names where the syntax breaks (a character position) but
 * never quotes the body, which may hold a key or a secret. An empty body is no body, as without the
 * header (Fastify refuses it): clients and scripts that send `Content-Type: application/json` on
 * every request, a DELETE or a rotation without options included, are served; a route that needs
 * a body then names its missing fields. Both Fastify instances of the app (see hot-door.ts) parse
 * JSON with it.
 */
export function explainingJsonParser(instance: FastifyInstance): JsonBodyParser {
  const parse = instance.getDefaultJsonParser('error', 'error');
  return (request, body, done) => {
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    // Nest hands the app's parser a Buffer, the hot instance a string.
    const text = typeof body === 'string' ? body : body.toString('utf8');
    parse(request, text, (error: Error | null, value?: unknown) => {
      if (error && (error as { code?: string }).code === 'FST_ERR_CTP_INVALID_JSON_BODY') done(new BadRequestException(jsonBodyProblem(text)), undefined);
      else done(error, value);
    });
  };
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
