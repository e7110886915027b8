import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { PROBLEM_REF } from '../common/http/api-docs.js';

/** Forward-auth answers here and at any path below it. */
export const FORWARD_AUTH_PATH = '/v1/auth/check';

const DESCRIPTION =
  'Forward-auth for gateways (nginx `auth_request`, Caddy `forward_auth`, Traefik ForwardAuth, Envoy `ext_authz`). ' +
  'Needs no credential besides the key it checks. **Any method** (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, ...) ' +
  'and **any path below `/v1/auth/check/`** are answered alike (Envoy forwards the original method and appends the ' +
  'original path after `path_prefix`); a request body is ignored. ' +
  '200 with an empty body and X-Auth-Client-Id, X-Auth-Realm, X-Auth-Scopes (space-separated) and X-Auth-Key-Id; ' +
  '401 (missing, malformed, unknown, expired, revoked key or disabled client; `reason` names which), 403 (scope missing, ' +
  'with `required` and `provided`), 429 with Retry-After (the key\'s rate limit, or, for a key that fails, too many ' +
  'failures from this client address; a valid key is never refused for its address). Results are cached for at most 5 s.';

const identityHeader = (description: string) => ({ description, schema: { type: 'string' } });
const problem = (description: string, headers: Record<string, { description?: string; schema: { type: string } }> = {}) => ({
  description,
  headers,
  content: { 'application/problem+json': { schema: PROBLEM_REF } },
});

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']> & { 'x-required-scopes': string[] };

function operation(operationId: string, withPath: boolean): Operation {
  return {
    operationId,
    tags: ['api-keys'],
    summary: withPath ? 'Forward-auth check of an API key, below /v1/auth/check/' : 'Forward-auth check of an API key',
    description: DESCRIPTION,
    'x-required-scopes': [],
    security: [],
    parameters: [
      ...(withPath
        ? [{ name: 'path', in: 'path' as const, required: true, description: 'Any path (Envoy appends the original one); ignored', schema: { type: 'string' } }]
        : []),
      { name: 'X-API-Key', in: 'header' as const, required: true, description: 'The key to check', schema: { type: 'string' } },
      { name: 'X-Required-Scopes', in: 'header' as const, required: false, description: 'Scopes the key must hold, separated by commas or spaces', schema: { type: 'string' } },
    ],
    responses: {
      '200': {
        description: 'Valid key: empty body, identity in the X-Auth-* headers',
        headers: {
          'X-Auth-Client-Id': identityHeader("The key's service account (clientId)"),
          'X-Auth-Realm': identityHeader('Its realm'),
          'X-Auth-Scopes': identityHeader("The key's scopes, space-separated"),
          'X-Auth-Key-Id': identityHeader("The key's id"),
        },
      },
      '401': problem('No key, or a key that is not valid', { 'WWW-Authenticate': { schema: { type: 'string' } } }),
      '403': problem('A scope named in X-Required-Scopes is missing'),
      '429': problem('Rate-limited', { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } }),
    },
  };
}

/**
 * Adds forward-auth to the document: GET on both paths stands for every method, which the
 * description says. Listing every method would repeat one operation seven times.
 */
export function documentForwardAuth(document: OpenAPIObject): OpenAPIObject {
  document.paths[FORWARD_AUTH_PATH] = { get: operation('AuthCheckController_check', false) };
  document.paths[`${FORWARD_AUTH_PATH}/{path}`] = { get: operation('AuthCheckController_checkBelow', true) };
  return document;
}

/**
 * Forward-auth never reads a body, whatever the method (nor does phantom-token forward-auth, whose
 * path is passed in `paths` too): Traefik copies the original Content-Type onto its bodiless
 * request, which Fastify would otherwise try to parse (400 or 415). Node discards an unread body
 * once the answer is sent, so the connection stays usable.
 */
export function ignoreForwardAuthBodies(fastify: FastifyInstance, paths: readonly string[] = [FORWARD_AUTH_PATH]): void {
  fastify.addHook('onRequest', async (request) => {
    const path = request.url.split('?', 1)[0] ?? '';
    if (!paths.some((prefix) => path === prefix || path.startsWith(`${prefix}/`))) return;
    delete request.headers['content-type'];
    delete request.headers['content-length'];
    delete request.headers['transfer-encoding'];
  });
}
