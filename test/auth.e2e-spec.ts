import { Controller, Get, Inject, Module, Req } from '@nestjs/common';
import { exportSPKI, generateKeyPair, importJWK, SignJWT, UnsecuredJWT, decodeProtectedHeader, type JWK } from 'jose';
import { AuditService } from '../src/audit/audit.service.js';
import { JwksProvider } from '../src/auth/jwks.provider.js';
import { RequireScopes } from '../src/common/auth/scopes.decorator.js';
import { Ctx, type AuthenticatedRequest, type OperationContext } from '../src/common/context/operation-context.js';
import { adminToken, authHeaders, claimsOf, remember, SEEDED_CALLERS, seededSecret, tokenFor, tokenWithIssuerHost } from './support/auth.js';
import { keycloakEnv } from './support/keycloak-env.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';

/** Test-only routes: one that shows what the guard put on the request, one that forgot its scopes. */
@Controller('v1/test-probe')
class ProbeController {
  constructor(@Inject(AuditService) private readonly audit: AuditService) {}

  @Get('whoami')
  @RequireScopes('service-accounts:read')
  async whoami(@Req() request: AuthenticatedRequest, @Ctx() context: OperationContext) {
    await this.audit.record(context, { action: 'test.probed' });
    return { principal: request.principal, context };
  }

  @Get('undeclared')
  undeclared() {
    return { reached: true };
  }
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

const AUDIT = '/v1/audit-events';
const WHOAMI = '/v1/test-probe/whoami';

describe('Authentication of Keysmith API: bearer JWTs', () => {
  let t: TestApp;
  let tester: string;
  let auditor: string;

  const get = (url: string, headers: Record<string, string> = {}) => t.inject({ method: 'GET', url, headers });
  const remembered = async (clientId: string) => {
    remember(t.secrets, await seededSecret(clientId));
    return remember(t.secrets, await tokenFor(clientId));
  };
  const expectInvalid = (res: Awaited<ReturnType<typeof get>>, description: RegExp) => {
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'INVALID_CREDENTIALS', status: 401, detail: expect.stringMatching(description) });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="keysmith", error="invalid_token", error_description="[^"]+"$/);
    expect(res.headers['www-authenticate']).toContain(`error_description="${res.json().detail}"`);
  };

  beforeAll(async () => {
    t = await createTestApp({ imports: [ProbeModule], tokenClock: 'test' });
    tester = remember(t.secrets, await adminToken());
    auditor = await remembered(SEEDED_CALLERS.auditor);
  });
  afterAll(() => t.close());
  afterEach(() => t.clock.reset());

  describe('accepted tokens', () => {
    it('accepts a real client-credentials token with the route scope', async () => {
      const res = await get(AUDIT, authHeaders(auditor));
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ items: expect.any(Array) });
    });

    it('puts the principal on the request, into the operation context and on audit events as actor', async () => {
      const res = await get(WHOAMI, authHeaders(tester));
      expect(res.statusCode).toBe(200);
      const { principal, context } = res.json();
      expect(principal).toEqual({
        method: 'jwt',
        subject: keycloakEnv().KEYSMITH_TEST_CLIENT_ID,
        scopes: expect.arrayContaining(['service-accounts:read', 'audit:read', 'gitops:apply']),
        realm: 'platform',
        owner: null,
      });
      expect(context).toMatchObject({ actor: { type: 'jwt', id: keycloakEnv().KEYSMITH_TEST_CLIENT_ID }, owner: null, requestId: res.headers['x-request-id'] });

      const events = await get(`${AUDIT}?action=test.probed`, authHeaders(tester));
      expect(events.json().items[0]).toMatchObject({ actor: { type: 'jwt', id: keycloakEnv().KEYSMITH_TEST_CLIENT_ID }, requestId: res.headers['x-request-id'] });
    });

    it('confines a caller to the owner in its token claim', async () => {
      const res = await get(WHOAMI, authHeaders(await remembered(SEEDED_CALLERS.teamA)));
      expect(res.statusCode).toBe(200);
      expect(res.json().principal).toMatchObject({ subject: SEEDED_CALLERS.teamA, owner: 'team-a' });
      expect(res.json().context.owner).toBe('team-a');
    });

    it('lifts the owner boundary for a caller holding the admin scope', async () => {
      const token = await remembered(SEEDED_CALLERS.operator);
      expect(claimsOf(token).keysmith_owner).toBe('team-a');
      const res = await get(WHOAMI, authHeaders(token));
      expect(res.statusCode).toBe(200);
      expect(res.json().principal).toMatchObject({ subject: SEEDED_CALLERS.operator, owner: null, scopes: expect.arrayContaining(['keysmith:admin']) });
    });

    it('accepts the scheme name in any case', async () => {
      expect((await get(AUDIT, { authorization: `bearer ${auditor}` })).statusCode).toBe(200);
    });
  });

  describe('refused tokens', () => {
    it('refuses an expired token, judged by the injected clock with the configured tolerance', async () => {
      const token = await remembered(SEEDED_CALLERS.shortLived);
      const { exp, iat } = claimsOf(token) as { exp: number; iat: number };
      expect(exp - iat).toBe(60);
      expect((await get(AUDIT, authHeaders(token))).statusCode).toBe(200);

      const untilExpiry = exp * 1000 - t.clock.nowMs();
      t.clock.advance(untilExpiry + 20_000); // expired 20 s ago: inside the 30 s tolerance
      expect((await get(AUDIT, authHeaders(token))).statusCode).toBe(200);
      t.clock.advance(11_000); // 31 s past exp
      expectInvalid(await get(AUDIT, authHeaders(token)), /expired/);
    });

    it('refuses a token of the right realm and key but another issuer', async () => {
      const token = remember(t.secrets, await tokenWithIssuerHost(SEEDED_CALLERS.auditor, 'keycloak.example:8180'));
      expect(claimsOf(token).iss).toBe('http://keycloak.example:8180/realms/platform');
      expect(decodeProtectedHeader(token).kid).toBe(decodeProtectedHeader(auditor).kid);
      expectInvalid(await get(AUDIT, authHeaders(token)), /not issued by the realm/);
    });

    it('refuses a token from another realm', async () => {
      remember(t.secrets, await seededSecret('keysmith-tester', 'partners'));
      const token = remember(t.secrets, await tokenFor('keysmith-tester', undefined, 'partners'));
      expect(claimsOf(token)).toMatchObject({ iss: expect.stringMatching(/\/realms\/partners$/), aud: 'keysmith' });
      expectInvalid(await get(AUDIT, authHeaders(token)), /key the realm does not publish|not issued by the realm/);
    });

    it('refuses a token without Keysmith audience', async () => {
      const token = await remembered(SEEDED_CALLERS.noAudience);
      expect(claimsOf(token).scope).toContain('audit:read');
      expectInvalid(await get(AUDIT, authHeaders(token)), /audience/);
    });

    it('refuses a token signed by another key under the realm key id', async () => {
      const { kid } = decodeProtectedHeader(auditor);
      const { privateKey } = await generateKeyPair('RS256');
      const forged = remember(t.secrets, await new SignJWT(claimsOf(auditor)).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(privateKey));
      expectInvalid(await get(AUDIT, authHeaders(forged)), /signature is invalid/);
    });

    it('refuses an unsigned token (alg none)', async () => {
      const unsigned = remember(t.secrets, new UnsecuredJWT(claimsOf(auditor)).encode());
      expect(unsigned.endsWith('.')).toBe(true);
      expectInvalid(await get(AUDIT, authHeaders(unsigned)), /algorithm/);
      // The same with an empty signature replaced by a bogus one.
      expectInvalid(await get(AUDIT, authHeaders(`${unsigned}AAAA`)), /algorithm|malformed/);
    });

    it('refuses an HS256 token whose secret is the realm public key', async () => {
      const { kid } = decodeProtectedHeader(auditor);
      const jwks = (await (await fetch(`${keycloakEnv().KEYCLOAK_URL}/realms/platform/protocol/openid-connect/certs`)).json()) as { keys: JWK[] };
      const jwk = jwks.keys.find((key) => key.kid === kid)!;
      const pem = await exportSPKI((await importJWK(jwk, 'RS256', { extractable: true })) as Parameters<typeof exportSPKI>[0]);
      const forged = remember(t.secrets, await new SignJWT(claimsOf(auditor)).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid }).sign(new TextEncoder().encode(pem)));
      expectInvalid(await get(AUDIT, authHeaders(forged)), /algorithm/);
    });

    it('refuses truncated and garbage tokens', async () => {
      expectInvalid(await get(AUDIT, authHeaders(auditor.slice(0, -12))), /signature|malformed/);
      expectInvalid(await get(AUDIT, authHeaders(auditor.split('.').slice(0, 2).join('.'))), /malformed/);
      expectInvalid(await get(AUDIT, authHeaders('abc.def.ghi')), /malformed/);
      expectInvalid(await get(AUDIT, authHeaders('not-a-jwt')), /malformed/);
      expectInvalid(await get(AUDIT, authHeaders('eyJhbGciOiJSUzI1NiJ9.e30.' + 'x'.repeat(40))), /./);
    });

    it('refetches the key set for an unknown key id at most once per cool-down', async () => {
      const jwks = t.app.get(JwksProvider);
      expect((await get(AUDIT, authHeaders(auditor))).statusCode).toBe(200);
      const { privateKey } = await generateKeyPair('RS256');
      const flood = async () => {
        const before = jwks.fetchCount;
        for (let i = 0; i < 20; i += 1) {
          const token = await new SignJWT(claimsOf(auditor)).setProtectedHeader({ alg: 'RS256', kid: `rotated-${i}` }).sign(privateKey);
          expectInvalid(await get(AUDIT, authHeaders(token)), /key the realm does not publish/);
        }
        return jwks.fetchCount - before;
      };
      expect(await flood()).toBeLessThanOrEqual(1);
      t.clock.advance(t.config.auth.jwksRefreshCooldownSeconds * 1000 + 1_000);
      expect(await flood()).toBe(1);
      expect((await get(AUDIT, authHeaders(auditor))).statusCode).toBe(200);
    });
  });

  describe('requests without usable credentials', () => {
    it('asks for credentials with a plain challenge when none are sent', async () => {
      const res = await get(AUDIT);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'AUTHENTICATION_REQUIRED', status: 401, requestId: res.headers['x-request-id'] });
      expect(res.headers['www-authenticate']).toBe('Bearer realm="keysmith"');
    });

    it.each([
      ['a Basic authorization', { authorization: 'Basic dXNlcjpwYXNz' }],
      ['an empty bearer token', { authorization: 'Bearer ' }],
      ['a bearer scheme without token', { authorization: 'Bearer' }],
      ['a bearer token with spaces', { authorization: 'Bearer abc def' }],
      ['an empty Authorization header', { authorization: '' }],
      ['an empty X-API-Key', { 'x-api-key': '' }],
      ['an X-API-Key with spaces', { 'x-api-key': 'sk_test_abc def' }],
    ])('refuses %s as MALFORMED_CREDENTIALS', async (_name, headers) => {
      const res = await get(AUDIT, headers);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'MALFORMED_CREDENTIALS', status: 400 });
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="keysmith", error="invalid_request"/);
    });

    it('refuses a bearer token and an API key together as AMBIGUOUS_CREDENTIALS', async () => {
      const res = await get(AUDIT, { ...authHeaders(auditor), 'x-api-key': 'sk_test_whatever' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'AMBIGUOUS_CREDENTIALS' });
    });

    it('refuses an API key it cannot verify with 401 INVALID_CREDENTIALS', async () => {
      const res = await get(AUDIT, { 'x-api-key': 'sk_test_0000000000000000000000000000000000000000000AAAAAA' });
      expectInvalid(res, /API key/);
    });
  });

  describe('scopes', () => {
    it('answers 403 INSUFFICIENT_SCOPE naming required and provided scopes', async () => {
      const scopeless = await remembered(SEEDED_CALLERS.scopeless);
      const res = await get(AUDIT, authHeaders(scopeless));
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'INSUFFICIENT_SCOPE', status: 403, required: ['audit:read'] });
      expect(res.json().provided).toEqual((claimsOf(scopeless).scope as string).split(' '));
      expect(res.headers['www-authenticate']).toBe('Bearer realm="keysmith", error="insufficient_scope", scope="audit:read"');

      const partial = await get(WHOAMI, authHeaders(auditor));
      expect(partial.statusCode).toBe(403);
      expect(partial.json()).toMatchObject({ required: ['service-accounts:read'], provided: expect.arrayContaining(['audit:read']) });
    });

    it('refuses every caller on a route that declares no scopes (deny by default)', async () => {
      expect((await get('/v1/test-probe/undeclared')).statusCode).toBe(401);
      const res = await get('/v1/test-probe/undeclared', authHeaders(tester));
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'INSUFFICIENT_SCOPE', required: [], detail: expect.stringContaining('deny by default') });
      expect(res.body).not.toContain('reached');
    });

    it('keeps health, readiness, metrics and the API documents open', async () => {
      for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs']) {
        expect([url, (await get(url)).statusCode]).toEqual([url, 200]);
      }
    });
  });

  describe('at the end', () => {
    it('logs no token or secret this suite used', () => {
      expectNoSecretInLogs('auth');
    });
  });
});
