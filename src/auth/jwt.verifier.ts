import { Injectable, Logger } from '@nestjs/common';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { AppConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { KeycloakService } from '../keycloak/index.js';
import { invalidCredentials } from './auth.errors.js';
import { assertB64Token } from './credentials.js';
import { JwksProvider, JwksUnavailableError } from './jwks.provider.js';
import { TokenClock } from './token-clock.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

/** Verified tokens kept (a few hundred bytes each); callers typically hold one token at a time. */
const VERIFIED_TOKENS = 10_000;

/** Only asymmetric signatures: an HMAC token could be forged by anyone holding the public key. */
export const ACCEPTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * Verifies Keycloak access tokens for Keysmith's own API: signature against the realm's JWKS,
 * `iss` = the configured realm, `aud` contains Keysmith's audience, `exp` / `nbf` against the
 * injected clock with the configured tolerance. A token that is not an RFC 6750 b64token is a 400
 * MALFORMED_CREDENTIALS; every other failure is a 401 INVALID_CREDENTIALS whose description says
 * which check failed, never echoing the token. A verified token is remembered (by its hash) until
 * its `exp`, so its characters and signature are checked once per token; a new key set of the
 * realm forgets every one.
 */
@Injectable()
export class JwtVerifier {
  private readonly logger = new Logger(JwtVerifier.name);
  private readonly issuer: string;
  private readonly verified = new VerifiedTokenCache(VERIFIED_TOKENS);

  constructor(
    private readonly config: AppConfig,
    keycloak: KeycloakService,
    private readonly jwks: JwksProvider,
    private readonly clock: TokenClock,
  ) {
    this.issuer = keycloak.issuer(config.jwt.realm);
  }

  async verify(token: string): Promise<JWTPayload> {
    const cacheKey = VerifiedTokenCache.keyOf(token);
    const known = this.verified.get(cacheKey, this.clock.nowMs(), this.jwks.keySetVersion);
    if (known) return known;
    // Only a token verified before skips this scan: the header's characters are checked here, on first sight.
    assertB64Token(token);
    const version = this.jwks.keySetVersion;
    const payload = await this.check(token);
    this.verified.set(cacheKey, payload, this.clock.nowMs(), version);
    return payload;
  }

  private async check(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.jwks.key, {
        issuer: this.issuer,
        audience: this.config.jwt.audience,
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: this.config.jwt.clockToleranceSeconds,
        currentDate: this.clock.now(),
        requiredClaims: ['exp'],
      });
      // Keycloak marks access tokens `typ: Bearer`; refuse its ID and refresh tokens.
      if (payload.typ !== undefined && payload.typ !== 'Bearer') throw invalidCredentials('The token is not an access token.');
      return payload;
    } catch (error) {
      throw this.toDomainError(error);
    }
  }

  private toDomainError(error: unknown): DomainError {
    if (error instanceof DomainError) return error;
    if (error instanceof JwksUnavailableError) {
      return new DomainError(ErrorCode.KeycloakUnavailable, 'The signing keys of the realm could not be fetched from Keycloak to check the token.');
    }
    if (error instanceof errors.JWTExpired) return invalidCredentials('The token has expired.');
    if (error instanceof errors.JWTClaimValidationFailed) {
      switch (error.claim) {
        case 'iss':
          return invalidCredentials('The token was not issued by the realm Keysmith trusts.');
        case 'aud':
          return invalidCredentials('The token is not meant for Keysmith (audience).');
        case 'nbf':
          return invalidCredentials('The token is not valid yet.');
        default:
          return invalidCredentials(`The token's ${error.claim.replace(/[^a-z_]/gi, '')} claim is missing or invalid.`);
      }
    }
    if (error instanceof errors.JOSEAlgNotAllowed) return invalidCredentials('The token is signed with an algorithm Keysmith does not accept.');
    if (error instanceof errors.JWSSignatureVerificationFailed) return invalidCredentials('The token signature is invalid.');
    if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
      return invalidCredentials('The token is signed by a key the realm does not publish.');
    }
    if (error instanceof errors.JOSEError) return invalidCredentials('The token is malformed.');
    this.logger.warn(`unexpected error while verifying a token: ${(error as Error)?.message}`);
    return invalidCredentials('The token could not be verified.');
  }
}
