/**
 * What the auth guard needs from the API-keys feature, as an injection token. The API-keys module
 * provides it; the auth module depends only on this file.
 */
export type ApiKeyFailureCode =
  | 'MALFORMED'
  | 'NOT_FOUND'
  | 'EXPIRED'
  | 'REVOKED'
  | 'INSUFFICIENT_SCOPE'
  | 'RATE_LIMITED'
  | 'CLIENT_DISABLED';

export interface ApiKeyIdentity {
  keyId: string;
  realm: string;
  clientId: string;
  owner: string;
  scopes: string[];
  expiresAt: string;
}

export type ApiKeyCheck =
  | { valid: true; identity: ApiKeyIdentity }
  | { valid: false; code: ApiKeyFailureCode; retryAfterSeconds?: number; identity?: ApiKeyIdentity };

export interface ApiKeyCheckOptions {
  requiredScopes?: string[];
  /** The caller's address, for rate-limiting repeated failures. */
  clientAddress?: string;
}

export abstract class ApiKeyVerifier {
  abstract check(key: string, options?: ApiKeyCheckOptions): Promise<ApiKeyCheck>;
}
