import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { documentForwardAuthRoute, problemDoc } from '../common/http/forward-auth-docs.js';

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

/** Adds forward-auth to the document (GET on both paths stands for every method). */
export function documentForwardAuth(document: OpenAPIObject): OpenAPIObject {
  return documentForwardAuthRoute(document, {
    path: FORWARD_AUTH_PATH,
    operationId: 'AuthCheckController_check',
    tag: 'api-keys',
    summary: 'Forward-auth check of an API key',
    description: DESCRIPTION,
    keyDescription: 'The key to check',
    success: 'Valid key: empty body, identity in the X-Auth-* headers',
    responses: { '403': problemDoc('A scope named in X-Required-Scopes is missing') },
  });
}

/** The headers that tell Fastify a request has a body. */
const BODY_HEADERS = ['content-type', 'content-length', 'transfer-encoding'] as const;

/**
 * Forward-auth never reads a body, whatever the method (nor does phantom-token forward-auth, whose
 * path is passed in `paths` too): Traefik copies the original Content-Type onto its bodiless
 * request, which Fastify would otherwise try to parse (400 or 415). Node discards an unread body
 * once the answer is sent, so the connection stays usable.
 */
export function ignoreForwardAuthBodies(fastify: FastifyInstance, paths: readonly string[] = [FORWARD_AUTH_PATH]): void {
  // A hook on those routes only (added as each route is registered), not one run for every request;
  // a callback, not an async function (no promise per request), deleting only the headers that are
  // there (a deletion makes later reads of the object slower).
  const dropBody = (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const headers = request.headers;
    for (const name of BODY_HEADERS) if (headers[name] !== undefined) delete headers[name];
    // Fastify refuses a QUERY request that has no Content-Type (RFC 10008 wants one); forward-auth
    // takes any method and ignores the body, so such a request's body is read as text and dropped.
    if (request.method === 'QUERY') headers['content-type'] = 'text/plain';
    done();
  };
  fastify.addHook('onRoute', (route) => {
    if (!paths.some((prefix) => route.url === prefix || route.url.startsWith(`${prefix}/`))) return;
    const own = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [dropBody, ...own];
  });
}
