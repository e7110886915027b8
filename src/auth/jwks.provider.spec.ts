import { Logger } from '@nestjs/common';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { AppConfig } from '../config/app-config.js';
import { Clock } from '../common/time/clock.js';
import { MetricsRegistry } from '../common/metrics/metrics.registry.js';
import type { KeycloakService } from '../keycloak/index.js';
import { JwksProvider, JwksUnavailableError } from './jwks.provider.js';

class FakeClock extends Clock {
  ms = Date.parse('2030-01-01T00:00:00Z');
  override now(): Date {
    return new Date(this.ms);
  }
}

const config = {
  jwt: { realm: 'platform' },
  keycloak: { timeoutMs: 1000 },
  auth: { jwksRefreshCooldownSeconds: 30, jwksCacheMaxAgeSeconds: 600 },
} as unknown as AppConfig;
const keycloak = { jwksUrl: () => 'http://keycloak.test/realms/platform/protocol/openid-connect/certs' } as unknown as KeycloakService;

async function publicJwk(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
}

describe('JwksProvider', () => {
  const realFetch = globalThis.fetch;
  let served: { keys: JWK[] } | 'down';
  let requests: number;
  let clock: FakeClock;
  let provider: JwksProvider;
  const header = (kid: string) => ({ alg: 'RS256', kid });
  const token = { payload: '', signature: '' };

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(() => {
    requests = 0;
    globalThis.fetch = (async () => {
      requests += 1;
      if (served === 'down') throw new TypeError('fetch failed');
      return new Response(JSON.stringify(served), { status: 200, headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    clock = new FakeClock();
    provider = new JwksProvider(config, keycloak, clock, new MetricsRegistry());
  });
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  it('announces a different key set with a new keySetVersion, not an unchanged one', async () => {
    const k1 = await publicJwk('k1');
    served = { keys: [k1] };
    await provider.key(header('k1'), token);
    expect(provider.keySetVersion).toBe(0);
    clock.ms += 601_000;
    await provider.key(header('k1'), token);
    expect(requests).toBe(2);
    expect(provider.keySetVersion).toBe(0);
    served = { keys: [k1, await publicJwk('k2')] };
    clock.ms += 31_000;
    await provider.key(header('k2'), token);
    expect(provider.keySetVersion).toBe(1);
  });

  it('fetches lazily once and serves keys from the cache', async () => {
    served = { keys: [await publicJwk('k1')] };
    expect(requests).toBe(0);
    await provider.key(header('k1'), token);
    await provider.key(header('k1'), token);
    expect(requests).toBe(1);
  });

  it('refetches on an unknown kid, at most once per cool-down, and finds a rotated key', async () => {
    served = { keys: [await publicJwk('k1')] };
    await provider.key(header('k1'), token);
    served = { keys: [await publicJwk('k1'), await publicJwk('k2')] };
    // Fetched 0 s ago: inside the cool-down, the unknown kid fails without asking Keycloak.
    await expect(provider.key(header('k2'), token)).rejects.toThrow(/no applicable key/i);
    clock.ms += 31_000;
    await expect(provider.key(header('k2'), token)).resolves.toBeDefined();
    expect(requests).toBe(2);
    for (let i = 0; i < 50; i += 1) await expect(provider.key(header(`bogus-${i}`), token)).rejects.toThrow();
    expect(requests).toBe(2);
  });

  it('shares one fetch between concurrent requests', async () => {
    served = { keys: [await publicJwk('k1')] };
    await Promise.all(Array.from({ length: 10 }, () => provider.key(header('k1'), token)));
    expect(requests).toBe(1);
  });

  it('fails fast when Keycloak is down and nothing is cached, and recovers', async () => {
    served = 'down';
    await expect(provider.key(header('k1'), token)).rejects.toBeInstanceOf(JwksUnavailableError);
    await expect(provider.key(header('k1'), token)).rejects.toBeInstanceOf(JwksUnavailableError);
    expect(requests).toBe(1);
    served = { keys: [await publicJwk('k1')] };
    clock.ms += 1_500;
    await expect(provider.key(header('k1'), token)).resolves.toBeDefined();
  });

  it('keeps verifying with stale keys while Keycloak is down', async () => {
    served = { keys: [await publicJwk('k1')] };
    await provider.key(header('k1'), token);
    served = 'down';
    clock.ms += 601_000;
    await expect(provider.key(header('k1'), token)).resolves.toBeDefined();
    expect(requests).toBe(2);
  });
});
