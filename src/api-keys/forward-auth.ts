import { Injectable } from '@nestjs/common';
import type { ApiKeyIdentity } from '../auth/index.js';
import { DomainError } from '../common/errors/domain-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { ApiKeyVerificationService } from './services/api-key-verification.service.js';
import type { HotRequest } from '../common/http/hot-request.js';

const WWW_AUTHENTICATE = 'ApiKey realm="keysmith", header="X-API-Key"';

export interface ForwardAuthGrant {
  identity: ApiKeyIdentity;
  /** The X-Auth-* headers the gateway forwards upstream. */
  headers: Record<string, string>;
}

/**
 * The forward-auth decision, shared by `/v1/auth/check` and `/v1/auth/exchange`: reads X-API-Key
 * and X-Required-Scopes, verifies the key (rate limits included) and answers the identity headers,
 * or throws the 401 / 403 / 429 DomainError the gateway passes on.
 */
@Injectable()
export class ForwardAuth {
  constructor(private readonly verification: ApiKeyVerificationService) {}

  async authorize(request: HotRequest): Promise<ForwardAuthGrant> {
    const key = header(request, 'x-api-key');
    if (!key) {
      throw new DomainError(ErrorCode.AuthenticationRequired, 'Send the API key in the X-API-Key header.', {}, { 'WWW-Authenticate': WWW_AUTHENTICATE });
    }
    const required = header(request, 'x-required-scopes');
    const requiredScopes = required ? required.split(/[\s,]+/).filter(Boolean) : [];
    const result = await this.verification.verify(key, {
      requiredScopes,
      clientAddress: request.ip,
      limitFailuresByAddress: true,
      requestId: String(request.id),
    });
    if (result.valid) {
      const { identity } = result;
      return {
        identity,
        headers: {
          'x-auth-client-id': identity.clientId,
          'x-auth-realm': identity.realm,
          'x-auth-scopes': identity.scopes.join(' '),
          'x-auth-key-id': identity.keyId,
        },
      };
    }
    switch (result.code) {
      case 'RATE_LIMITED':
        throw new DomainError(ErrorCode.RateLimited, 'Too many requests; retry after the time in Retry-After.', { retryAfterSeconds: result.retryAfterSeconds }, {
          'Retry-After': String(result.retryAfterSeconds ?? 1),
        });
      case 'INSUFFICIENT_SCOPE':
        throw new DomainError(ErrorCode.InsufficientScope, 'The key lacks a required scope.', {
          required: requiredScopes,
          provided: result.identity?.scopes ?? [],
        });
      default:
        throw new DomainError(ErrorCode.InvalidCredentials, 'The API key is not valid.', { reason: result.code }, { 'WWW-Authenticate': WWW_AUTHENTICATE });
    }
  }
}

function header(request: HotRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
