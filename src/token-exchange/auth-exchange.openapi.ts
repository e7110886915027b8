import type { OpenAPIObject } from '@nestjs/swagger';
import { PROBLEM_REF } from '../common/http/api-docs.js';

/** Phantom-token forward auth answers here and at any path below it. */
export const AUTH_EXCHANGE_PATH = '/v1/auth/exchange';

const DESCRIPTION =
  'Phantom-token forward auth for gateways: answers exactly as forward auth (`/v1/auth/check`) does, for **any method** and ' +
  '**any path below `/v1/auth/exchange/`** (Envoy appends the original path), plus `Authorization: Bearer <JWT>`, an access ' +
  'token that Keycloak issued to the key\'s service account with the key\'s scopes (the same token `POST /v1/token` answers; ' +
  'cached per key). The gateway passes that header upstream instead of the key. Needs `apiKeyPolicy.tokenExchange` on the ' +
  'key\'s account; otherwise, or when the token would carry a scope the key lacks, 403 `TOKEN_EXCHANGE_REFUSED` with `reason` ' +
  '(`EXCHANGE_NOT_ENABLED`, `SCOPE_NOT_GRANTABLE`) and `scopes`.';

const header = (description: string) => ({ description, schema: { type: 'string' } });
const problem = (description: string, headers: Record<string, { description?: string; schema: { type: string } }> = {}) => ({
  description,
  headers,
  content: { 'application/problem+json': { schema: PROBLEM_REF } },
});

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']> & { 'x-required-scopes': string[] };

function operation(operationId: string, withPath: boolean): Operation {
  return {
    operationId,
    tags: ['token-exchange'],
    summary: withPath ? 'Forward auth with a Keycloak token for upstream, below /v1/auth/exchange/' : 'Forward auth with a Keycloak token for upstream',
    description: DESCRIPTION,
    'x-required-scopes': [],
    security: [],
    parameters: [
      ...(withPath ? [{ name: 'path', in: 'path' as const, required: true, description: 'Any path; ignored', schema: { type: 'string' } }] : []),
      { name: 'X-API-Key', in: 'header' as const, required: true, description: 'The key to check and exchange', schema: { type: 'string' } },
      { name: 'X-Required-Scopes', in: 'header' as const, required: false, description: 'Scopes the key must hold, separated by commas or spaces', schema: { type: 'string' } },
    ],
    responses: {
      '200': {
        description: 'Valid key: empty body, identity in the X-Auth-* headers and the token in Authorization',
        headers: {
          Authorization: header('`Bearer <JWT>`: the token to pass upstream instead of the key'),
          'X-Auth-Client-Id': header("The key's service account (clientId)"),
          'X-Auth-Realm': header('Its realm'),
          'X-Auth-Scopes': header("The key's scopes, space-separated"),
          'X-Auth-Key-Id': header("The key's id"),
        },
      },
      '401': problem('No key, or a key that is not valid', { 'WWW-Authenticate': { schema: { type: 'string' } } }),
      '403': problem('A scope named in X-Required-Scopes is missing (`INSUFFICIENT_SCOPE`), or the key cannot be exchanged (`TOKEN_EXCHANGE_REFUSED`)'),
      '429': problem('Rate-limited', { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } }),
      '502': problem('Keycloak refused a token to the key\'s service account (`KEYCLOAK_REJECTED`)'),
      '503': problem('Keycloak could not be reached (`KEYCLOAK_UNAVAILABLE`)'),
    },
  };
}

/** Adds phantom-token forward auth to the document: GET on both paths stands for every method. */
export function documentAuthExchange(document: OpenAPIObject): OpenAPIObject {
  document.paths[AUTH_EXCHANGE_PATH] = { get: operation('AuthExchangeController_exchange', false) };
  document.paths[`${AUTH_EXCHANGE_PATH}/{path}`] = { get: operation('AuthExchangeController_exchangeBelow', true) };
  return document;
}
