import { Logger, type ExecutionContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Reflector } from '@nestjs/core';
import { ApiKeyVerifier, type ApiKeyCheck } from './ports/api-key-verifier.port.js';
import { PUBLIC_ROUTE, REQUIRED_SCOPES } from '../common/auth/scopes.decorator.js';
import type { AuthenticatedRequest } from '../common/context/operation-context.js';
import { DomainError } from '../common/errors/domain-error.js';
import { AppConfig } from '../config/app-config.js';
import { MetricsRegistry } from '../common/metrics/metrics.registry.js';
import { AuthGuard } from './auth.guard.js';
import { AuditService } from '../audit/index.js';
import { Clock } from '../common/time/clock.js';
import { JwtVerifier } from './jwt.verifier.js';
import { ManagedCallerDirectory } from './ports/managed-caller-directory.port.js';

const config = {
  jwt: { realm: 'platform' },
  auth: { ownerClaim: 'keysmith_owner', adminScope: 'keysmith:admin', jwksRefreshCooldownSeconds: 30, jwksCacheMaxAgeSeconds: 600, trustedCallers: ['ci'] },
} as unknown as AppConfig;
const identity = { keyId: 'key_1', realm: 'platform', clientId: 'ci', owner: 'team-a', scopes: ['audit:read'], expiresAt: '2030-01-01T00:00:00Z' };

const audit = { record: async () => undefined } as unknown as AuditService;
const noManagedCallers: ManagedCallerDirectory = { findCaller: async () => null };

class FakeVerifier extends ApiKeyVerifier {
  next: ApiKeyCheck = { valid: true, identity };
  calls: { key: string; clientAddress?: string }[] = [];
  async check(key: string, options?: { clientAddress?: string }): Promise<ApiKeyCheck> {
    this.calls.push({ key, clientAddress: options?.clientAddress });
    return this.next;
  }
}

function handler(metadata: Record<string, unknown>): () => void {
  const fn = () => undefined;
  for (const [key, value] of Object.entries(metadata)) Reflect.defineMetadata(key, value, fn);
  return fn;
}

function contextFor(request: Partial<AuthenticatedRequest>, metadata: Record<string, unknown>): ExecutionContext {
  return {
    getHandler: () => handler(metadata),
    getClass: () => class {},
    switchToHttp: () => ({ getRequest: () => request }),
  } as unknown as ExecutionContext;
}

async function outcome(guard: AuthGuard, request: Partial<AuthenticatedRequest>, metadata: Record<string, unknown> = { [REQUIRED_SCOPES]: ['audit:read'] }) {
  try {
    return await guard.canActivate(contextFor(request, metadata));
  } catch (error) {
    if (error instanceof DomainError) return { status: error.code, extensions: error.extensions, headers: error.headers, detail: error.detail };
    throw error;
  }
}

describe('AuthGuard with API keys', () => {
  let verifier: FakeVerifier;
  let guard: AuthGuard;
  const jwt = { verify: async () => ({ azp: 'ci', scope: 'audit:read' }) } as unknown as JwtVerifier;
  const keyRequest = () => ({ headers: { 'x-api-key': 'sk_live_abc' }, ip: '10.0.0.7' }) as unknown as AuthenticatedRequest;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    verifier = new FakeVerifier();
    guard = new AuthGuard(new Reflector(), verifier, noManagedCallers, jwt, config, new MetricsRegistry(), audit, new Clock());
  });

  it('lets public routes through without looking at credentials', async () => {
    expect(await outcome(guard, { headers: {} } as AuthenticatedRequest, { [PUBLIC_ROUTE]: true })).toBe(true);
  });

  it('puts an api-key principal confined to the account owner on the request, passing the client address', async () => {
    const request = keyRequest();
    expect(await outcome(guard, request)).toBe(true);
    expect(request.principal).toEqual({ method: 'api-key', subject: 'key_1', scopes: ['audit:read'], realm: 'platform', owner: 'team-a' });
    expect(verifier.calls).toEqual([{ key: 'sk_live_abc', clientAddress: '10.0.0.7' }]);
  });

  it.each(['MALFORMED', 'NOT_FOUND', 'EXPIRED', 'REVOKED', 'CLIENT_DISABLED'] as const)('answers 401 INVALID_CREDENTIALS for %s', async (code) => {
    verifier.next = { valid: false, code };
    const result = await outcome(guard, keyRequest());
    expect(result).toMatchObject({ status: 'INVALID_CREDENTIALS', headers: { 'www-authenticate': expect.stringContaining('error="invalid_token"') } });
  });

  it('answers 429 RATE_LIMITED with Retry-After', async () => {
    verifier.next = { valid: false, code: 'RATE_LIMITED', retryAfterSeconds: 2.2 };
    expect(await outcome(guard, keyRequest())).toMatchObject({ status: 'RATE_LIMITED', headers: { 'retry-after': '3' } });
  });

  it('answers 403 with required and provided when the key lacks the route scope', async () => {
    expect(await outcome(guard, keyRequest(), { [REQUIRED_SCOPES]: ['api-keys:write'] })).toMatchObject({
      status: 'INSUFFICIENT_SCOPE',
      extensions: { required: ['api-keys:write'], provided: ['audit:read'] },
    });
  });

  it('decides for a route given by its method and class, as the hot-path routes call it', async () => {
    const request = keyRequest();
    await expect(guard.authorize(request, [handler({ [REQUIRED_SCOPES]: ['audit:read'] }), class {}])).resolves.toBe(true);
    expect(request.principal).toMatchObject({ method: 'api-key', subject: 'key_1' });
    await expect(guard.authorize(keyRequest(), [handler({ [REQUIRED_SCOPES]: ['api-keys:verify'] }), class {}])).rejects.toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
    await expect(guard.authorize({ headers: {} } as AuthenticatedRequest, [handler({ [PUBLIC_ROUTE]: true }), class {}])).resolves.toBe(true);
  });

  it("makes a caller's principal once per identity, a new one for a changed identity, and says which routes are public", async () => {
    const first = keyRequest();
    const second = keyRequest();
    await outcome(guard, first);
    await outcome(guard, second);
    expect(second.principal).toBe(first.principal);
    expect(Object.isFrozen(first.principal) && Object.isFrozen(first.principal?.scopes)).toBe(true);

    // The verifier shares an identity until the key or its account changes; a changed one is a new object.
    verifier.next = { valid: true, identity: { ...identity, scopes: ['audit:read', 'api-keys:verify'] } };
    const third = keyRequest();
    await outcome(guard, third);
    expect(third.principal).not.toBe(first.principal);
    expect(third.principal?.scopes).toEqual(['audit:read', 'api-keys:verify']);

    expect(guard.isPublic([handler({ [PUBLIC_ROUTE]: true }), class {}])).toBe(true);
    expect(guard.isPublic([handler({ [REQUIRED_SCOPES]: ['audit:read'] }), class {}])).toBe(false);
  });

  it('refuses a route without declared scopes even for a valid credential', async () => {
    expect(await outcome(guard, keyRequest(), {})).toMatchObject({ status: 'INSUFFICIENT_SCOPE', extensions: { required: [] } });
  });

  it.each([{ missing: ApiKeyVerifier }, { missing: ManagedCallerDirectory }])('fails at start-up, naming the port, when $missing.name is not bound', async ({ missing }) => {
    const bound = [
      { provide: ApiKeyVerifier, useValue: new FakeVerifier() },
      { provide: ManagedCallerDirectory, useValue: noManagedCallers },
    ].filter((binding) => binding.provide !== (missing as unknown));
    const boot = Test.createTestingModule({
      providers: [
        AuthGuard,
        Reflector,
        ...bound,
        { provide: JwtVerifier, useValue: jwt },
        { provide: AppConfig, useValue: config },
        { provide: MetricsRegistry, useValue: new MetricsRegistry() },
        { provide: AuditService, useValue: audit },
        Clock,
      ],
    }).compile();
    await expect(boot).rejects.toThrow(missing.name);
  });
});
