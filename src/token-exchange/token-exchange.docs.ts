import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiResponse } from '@nestjs/swagger';
import { ACCESS_TOKEN_TYPE, API_KEY_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from './dto/token-request.js';

/** RFC 6749 section 5.2 error body. */
export const OAUTH_ERROR_SCHEMA = {
  type: 'object',
  description: 'OAuth 2.0 error (RFC 6749 section 5.2)',
  properties: {
    error: {
      type: 'string',
      enum: ['invalid_request', 'invalid_grant', 'unauthorized_client', 'invalid_scope', 'invalid_target', 'unsupported_grant_type', 'temporarily_unavailable', 'server_error'],
    },
    error_description: { type: 'string' },
  },
  required: ['error'],
};

export const TOKEN_RESPONSE_SCHEMA = {
  type: 'object',
  properties: {
    access_token: { type: 'string', description: 'A JWT issued by Keycloak to the key\'s service account' },
    issued_token_type: { type: 'string', enum: [ACCESS_TOKEN_TYPE] },
    token_type: { type: 'string', enum: ['Bearer'] },
    expires_in: { type: 'integer', description: 'Seconds the token has left' },
    scope: { type: 'string', description: 'The token\'s scopes, space-separated' },
  },
  required: ['access_token', 'issued_token_type', 'token_type', 'expires_in', 'scope'],
};

const FORM_SCHEMA = {
  type: 'object',
  required: ['grant_type', 'subject_token', 'subject_token_type'],
  properties: {
    grant_type: { type: 'string', enum: [TOKEN_EXCHANGE_GRANT] },
    subject_token: { type: 'string', description: 'The API key', example: 'sk_live_...' },
    subject_token_type: { type: 'string', enum: [API_KEY_TOKEN_TYPE] },
    scope: { type: 'string', description: 'Space-separated subset of the key\'s effective scopes; default: all of them', example: 'read:data' },
    requested_token_type: { type: 'string', enum: [ACCESS_TOKEN_TYPE] },
  },
};

const oauthError = (status: number, description: string) =>
  ApiResponse({ status, description, content: { 'application/json': { schema: OAUTH_ERROR_SCHEMA } } });

/** OpenAPI description of POST /v1/token. */
export function ApiTokenExchange(): MethodDecorator {
  return applyDecorators(
    ApiConsumes('application/x-www-form-urlencoded'),
    ApiBody({ required: true, schema: FORM_SCHEMA }),
    ApiResponse({ status: 200, description: 'A Keycloak access token of the key\'s service account', content: { 'application/json': { schema: TOKEN_RESPONSE_SCHEMA } } }),
    oauthError(
      400,
      '`invalid_request` (missing, repeated or unsupported parameter), `unsupported_grant_type`, `invalid_grant` (the key is malformed, unknown, expired, revoked, ' +
        'or its account is disabled, or Keycloak refused the account), `unauthorized_client` (token exchange is not enabled for the key\'s account), ' +
        '`invalid_scope` (a scope the key lacks, or a default scope of the account that the token would carry without the key holding or requesting it; named), `invalid_target`',
    ),
    oauthError(429, '`temporarily_unavailable`: the key\'s rate limit or too many failures from this address; see Retry-After'),
    oauthError(503, '`temporarily_unavailable`: Keycloak could not be reached'),
    oauthError(
      500,
      '`server_error`: Keycloak issued a token living longer than the exchange lifespan (the client was changed in Keycloak; reconcile the account), or an unexpected error (the description holds the request id)',
    ),
  );
}
