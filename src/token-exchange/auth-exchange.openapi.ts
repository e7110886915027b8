import type { OpenAPIObject } from '@nestjs/swagger';
import { documentForwardAuthRoute, headerDoc, problemDoc } from '../common/http/forward-auth-docs.js';

/** Phantom-token forward auth answers here and at any path below it. */
export const AUTH_EXCHANGE_PATH = '/v1/auth/exchange';

const DESCRIPTION =
  'Phantom-token forward auth for gateways: answers exactly as forward auth (`/v1/auth/check`) does, for **any method** and ' +
  '**any path below `/v1/auth/exchange/`** (Envoy appends the original path), plus `Authorization: Bearer <JWT>`, an access ' +
  'token that Keycloak issued to the key\'s service account with the key\'s scopes (the same token `POST /v1/token` answers; ' +
  'cached per key). The gateway passes that header upstream instead of the key. Needs `apiKeyPolicy.tokenExchange` on the ' +
  'key\'s account; otherwise, or when the token would carry a scope the key lacks, 403 `TOKEN_EXCHANGE_REFUSED` with `reason` ' +
  '(`EXCHANGE_NOT_ENABLED`, `SCOPE_NOT_GRANTABLE`) and `scopes`.';

/** Adds phantom-token forward auth to the document: GET on both paths stands for every method. */
export function documentAuthExchange(document: OpenAPIObject): OpenAPIObject {
  return documentForwardAuthRoute(document, {
    path: AUTH_EXCHANGE_PATH,
    operationId: 'AuthExchangeController_exchange',
    tag: 'token-exchange',
    summary: 'Forward auth with a Keycloak token for upstream',
    description: DESCRIPTION,
    keyDescription: 'The key to check and exchange',
    success: 'Valid key: empty body, identity in the X-Auth-* headers and the token in Authorization',
    extraHeaders: { Authorization: headerDoc('`Bearer <JWT>`: the token to pass upstream instead of the key') },
    responses: {
      '403': problemDoc('A scope named in X-Required-Scopes is missing (`INSUFFICIENT_SCOPE`), or the key cannot be exchanged (`TOKEN_EXCHANGE_REFUSED`)'),
      '502': problemDoc('Keycloak refused a token to the key\'s service account (`KEYCLOAK_REJECTED`)'),
      '503': problemDoc('Keycloak could not be reached (`KEYCLOAK_UNAVAILABLE`)'),
    },
  });
}
