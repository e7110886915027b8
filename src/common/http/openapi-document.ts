import type { OpenAPIObject } from '@nestjs/swagger';
import { PROBLEM_SCHEMA_NAME, problemResponse, problemSchema, responseSchema } from './api-docs.js';

type Operation = { parameters?: { in: string }[]; requestBody?: unknown; responses?: Record<string, unknown>; security?: unknown[] };

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;

/** Paths that take no credential of Keysmith's own API (token exchange: the key presented is the credential). */
const OPEN_PATHS = /^\/(healthz|readyz|metrics)$|^\/v1\/auth\/(check|exchange)|^\/v1\/token$/;

/**
 * The responses every route can give whatever it does, added to each operation of the document:
 * the guard's (400 unreadable credential, 401, 403, 429 per-key rate limit, 503 when Keycloak's
 * signing keys cannot be fetched), the body parser's (400, 413, 415), Fastify's 414 for an
 * over-long path parameter (400 for a bad URL encoding), and the generic 500. All are problem+json.
 */
function commonStatuses(path: string, operation: Operation): number[] {
  const statuses = [500];
  if (!OPEN_PATHS.test(path)) statuses.push(400, 401, 403, 429, 503);
  if (operation.requestBody) statuses.push(400, 413, 415);
  // Forward-auth's `{path}` is a wildcard, which has no length limit; a bad URL encoding is still a 400.
  if (path.startsWith('/v1/auth/check/') || path.startsWith('/v1/auth/exchange/')) statuses.push(400);
  else if (operation.parameters?.some((parameter) => parameter.in === 'path')) statuses.push(400, 414);
  if (operation.parameters?.some((parameter) => parameter.in === 'query')) statuses.push(400);
  return [...new Set(statuses)];
}

/** Completes Nest's document: OpenAPI 3.1, the Problem schema, every status each route can give. */
export function completeOpenApiDocument(document: OpenAPIObject): OpenAPIObject {
  document.openapi = '3.1.0';
  document.components = { ...document.components, schemas: { ...document.components?.schemas, [PROBLEM_SCHEMA_NAME]: responseSchema(problemSchema) } };
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of METHODS) {
      const operation = (item as Record<string, Operation | undefined>)[method];
      if (!operation) continue;
      operation.responses ??= {};
      for (const status of commonStatuses(path, operation)) operation.responses[String(status)] ??= problemResponse(status);
      if (OPEN_PATHS.test(path)) operation.security = [];
    }
  }
  return document;
}
