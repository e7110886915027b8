import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import type { AppConfig } from '../config/app-config.js';
import { Clock } from '../common/time/clock.js';
import { DomainError } from '../common/errors/domain-error.js';
import type { KeycloakService } from '../keycloak/index.js';
import type { JwksProvider } from './jwks.provider.js';
import { JwtVerifier } from './jwt.verifier.js';
import type { TokenClock } from './token-clock.js';

const ISSUER = 'http://keycloak.test/realms/platform';
const NOW = Date.parse('2030-01-01T00:00:00Z') / 1000;

class FixedClock extends Clock {
  override now(): Date {
    return new Date(NOW * 1000);
  }
}

describe('JwtVerifier', () => {
  let verifier: JwtVerifier;
  let sign: (claims: JWTPayload, alg?: string) => Promise<string>;

  beforeAll(async () => {
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const ec = await generateKeyPair('ES256', { extractable: true });
    const jwks = createLocalJWKSet({
      keys: [
        { ...(await exportJWK(rsa.publicKey)), kid: 'rsa', alg: 'RS256' },
        { ...(await exportJWK(ec.publicKey)), kid: 'ec', alg: 'ES256' },
      ],
    });
    const config = { jwt: { realm: 'platform', audience: 'keysmith', clockToleranceSeconds: 30 } } as unknown as AppConfig;
    const keycloak = { issuer: () => ISSUER } as unknown as KeycloakService;
    verifier = new JwtVerifier(config, keycloak, { key: jwks } as unknown as JwksProvider, new FixedClock() as TokenClock);
    sign = (claims, alg = 'RS256') =>
      new SignJWT({ iss: ISSUER, aud: ['account', 'keysmith'], azp: 'ci', typ: 'Bearer', iat: NOW - 10, exp: NOW + 300, ...claims })
        .setProtectedHeader({ alg, kid: alg === 'ES256' ? 'ec' : 'rsa' })
        .sign(alg === 'ES256' ? ec.privateKey : rsa.privateKey);
  });

  const failure = async (token: string): Promise<string> => {
    try {
      await verifier.verify(token);
    } catch (error) {
      if (error instanceof DomainError) return `${error.code}: ${error.detail}`;
      throw error;
    }
    return 'accepted';
  };

  it('accepts RS256 and ES256 tokens with an audience list containing Keysmith', async () => {
    await expect(verifier.verify(await sign({}))).resolves.toMatchObject({ azp: 'ci' });
    await expect(verifier.verify(await sign({}, 'ES256'))).resolves.toMatchObject({ azp: 'ci' });
  });

  it('refuses a token that is not an RFC 6750 b64token as MALFORMED_CREDENTIALS, before any signature check', async () => {
    const token = await sign({});
    expect(await failure(`${token} x`)).toBe('MALFORMED_CREDENTIALS: The bearer token is empty or not a valid token.');
    expect(await failure(`${token}"`)).toMatch(/^MALFORMED_CREDENTIALS/);
    expect(await failure(token)).toBe('accepted');
  });

  it('checks exp and nbf with the clock tolerance', async () => {
    expect(await failure(await sign({ exp: NOW - 29 }))).toBe('accepted');
    expect(await failure(await sign({ exp: NOW - 31 }))).toMatch(/INVALID_CREDENTIALS: .*expired/);
    expect(await failure(await sign({ nbf: NOW + 29 }))).toBe('accepted');
    expect(await failure(await sign({ nbf: NOW + 31 }))).toMatch(/not valid yet/);
  });

  it('requires exp, the issuer and the audience', async () => {
    expect(await failure(await sign({ exp: undefined }))).toMatch(/exp/);
    expect(await failure(await sign({ iss: 'http://keycloak.test/realms/other' }))).toMatch(/not issued by the realm/);
    expect(await failure(await sign({ aud: 'account' }))).toMatch(/audience/);
  });

  it('refuses ID and refresh tokens', async () => {
    expect(await failure(await sign({ typ: 'ID' }))).toMatch(/not an access token/);
    expect(await failure(await sign({ typ: 'Refresh' }))).toMatch(/not an access token/);
  });
});

describe('JwtVerifier: verified tokens are remembered', () => {
  class MovableClock extends Clock {
    at = NOW * 1000;
    override now(): Date {
      return new Date(this.at);
    }
  }

  async function setUp() {
    const rsa = await generateKeyPair('RS256', { extractable: true });
    const resolve = createLocalJWKSet({ keys: [{ ...(await exportJWK(rsa.publicKey)), kid: 'rsa', alg: 'RS256' }] });
    const jwks = { resolved: 0, keySetVersion: 0, key: (...args: Parameters<typeof resolve>) => ((jwks.resolved += 1), resolve(...args)) };
    const clock = new MovableClock();
    const config = { jwt: { realm: 'platform', audience: 'keysmith', clockToleranceSeconds: 0 } } as unknown as AppConfig;
    const verifier = new JwtVerifier(config, { issuer: () => ISSUER } as unknown as KeycloakService, jwks as unknown as JwksProvider, clock as TokenClock);
    const sign = (claims: JWTPayload = {}) =>
      new SignJWT({ iss: ISSUER, aud: 'keysmith', azp: 'gateway', typ: 'Bearer', exp: NOW + 300, ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'rsa' }).sign(rsa.privateKey);
    return { verifier, jwks, clock, sign };
  }

  it('checks the signature once per token, until the token expires', async () => {
    const { verifier, jwks, clock, sign } = await setUp();
    const token = await sign();
    for (let i = 0; i < 5; i += 1) await expect(verifier.verify(token)).resolves.toMatchObject({ azp: 'gateway' });
    expect(jwks.resolved).toBe(1);
    await verifier.verify(await sign({ jti: 'other' }));
    expect(jwks.resolved).toBe(2);
    clock.at = (NOW + 300) * 1000;
    await expect(verifier.verify(token)).rejects.toThrow(/expired/);
    expect(jwks.resolved).toBe(3);
  });

  it('never remembers a refused token', async () => {
    const { verifier, jwks, sign } = await setUp();
    const token = await sign({ aud: 'someone-else' });
    await expect(verifier.verify(token)).rejects.toThrow(DomainError);
    await expect(verifier.verify(token)).rejects.toThrow(DomainError);
    expect(jwks.resolved).toBe(2);
  });

  it('forgets every token when the realm publishes a different key set', async () => {
    const { verifier, jwks, sign } = await setUp();
    const token = await sign();
    await verifier.verify(token);
    await verifier.verify(token);
    expect(jwks.resolved).toBe(1);
    jwks.keySetVersion += 1;
    await verifier.verify(token);
    expect(jwks.resolved).toBe(2);
  });
});
