import type { OpenAPIObject } from '@nestjs/swagger';
import { PROBLEM_REF } from './api-docs.js';

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']> & { 'x-required-scopes': string[] };
type HeaderDoc = { description?: string; schema: { type: string } };
type ResponseDoc = Operation['responses'][string];

export const headerDoc = (description: string): HeaderDoc => ({ description, schema: { type: 'string' } });

export const problemDoc = (description: string, headers: Record<string, HeaderDoc> = {}): ResponseDoc => ({
  description,
  headers,
  content: { 'application/problem+json': { schema: PROBLEM_REF } },
});

/** What differs between the forward-auth routes (plain check, phantom-token exchange). */
export interface ForwardAuthDocs {
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description: string;
  keyDescription: string;
  success: string;
  /** Success headers besides the X-Auth-* identity. */
  extraHeaders?: Record<string, HeaderDoc>;
  /** Answers besides 200, 401, 429, or replacing their text. */
  responses: Record<string, ResponseDoc>;
}

function operation(docs: ForwardAuthDocs, withPath: boolean): Operation {
  return {
    operationId: withPath ? `${docs.operationId}Below` : docs.operationId,
    tags: [docs.tag],
    summary: withPath ? `${docs.summary}, below ${docs.path}/` : docs.summary,
    description: docs.description,
    'x-required-scopes': [],
    security: [],
    parameters: [
      ...(withPath
        ? [{ name: 'path', in: 'path' as const, required: true, description: 'Any path (Envoy appends the original one); ignored', schema: { type: 'string' } }]
        : []),
      { name: 'X-API-Key', in: 'header' as const, required: true, description: docs.keyDescription, schema: { type: 'string' } },
      { name: 'X-Required-Scopes', in: 'header' as const, required: false, description: 'Scopes the key must hold, separated by commas or spaces', schema: { type: 'string' } },
    ],
    responses: {
      '200': {
        description: docs.success,
        headers: {
          ...docs.extraHeaders,
          'X-Auth-Client-Id': headerDoc("The key's service account (clientId)"),
          'X-Auth-Realm': headerDoc('Its realm'),
          'X-Auth-Scopes': headerDoc("The key's scopes, space-separated"),
          'X-Auth-Key-Id': headerDoc("The key's id"),
        },
      },
      '401': problemDoc('No key, or a key that is not valid', { 'WWW-Authenticate': { schema: { type: 'string' } } }),
      '429': problemDoc('Rate-limited', { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } }),
      ...docs.responses,
    },
  };
}

/**
 * Adds a forward-auth route to the document: GET on the path and on `{path}` below it stands for
 * every method, which the description says. Listing every method would repeat one operation
 * seven times (and OpenAPI knows no SEARCH or QUERY).
 */
export function documentForwardAuthRoute(document: OpenAPIObject, docs: ForwardAuthDocs): OpenAPIObject {
  document.paths[docs.path] = { get: operation(docs, false) };
  document.paths[`${docs.path}/{path}`] = { get: operation(docs, true) };
  return document;
}
