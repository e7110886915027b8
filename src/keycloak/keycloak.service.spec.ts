import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';
import { MetricsRegistry } from '../common/metrics/metrics.registry.js';
import { Random } from '../common/random/random.js';
import { Clock } from '../common/time/clock.js';
import { KeycloakHttpError } from './keycloak.errors.js';
import { KeycloakAdmin } from './keycloak-admin.js';
import { KeycloakService } from './keycloak.service.js';

// The admin client's policy (KeycloakAdmin's token handling, KeycloakService's retries and concurrency) against a scripted HTTP
// peer on loopback. What Keycloak itself answers is tested in the e2e suites against the real server.

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A clock fixed at its creation plus an offset the test moves forward instead of sleeping (no real time passes). */
class SteppedClock extends Clock {
  private readonly start = Date.now();
  offsetMs = 0;
  override now(): Date {
    return new Date(this.start + this.offsetMs);
  }
}

function token(expiresInSeconds: number): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none' })}.${part({ iat: now, exp: now + expiresInSeconds })}.sig`;
}

describe('KeycloakAdmin over KeycloakService', () => {
  let server: Server;
  let baseUrl: string;
  let admin: Handler;
  let tokenLifetime = 300;
  let tokenRequests = 0;
  /** Answers token requests instead of the default (a token), when set. */
  let tokenAnswer: Handler | undefined;
  let inFlight = 0;
  let maxInFlight = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url?.endsWith('/protocol/openid-connect/token')) {
        tokenRequests += 1;
        if (tokenAnswer) return tokenAnswer(req, res);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ access_token: token(tokenLifetime), expires_in: tokenLifetime }));
        return;
      }
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.on('finish', () => (inFlight -= 1));
      admin(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    tokenRequests = 0;
    tokenLifetime = 300;
    tokenAnswer = undefined;
    maxInFlight = 0;
  });

  const service = (env: Record<string, string> = {}, clock: Clock = new Clock()) => {
    const config = loadConfig({ KEYCLOAK_URL: baseUrl, KEYCLOAK_CLIENT_SECRET: 'test-secret', KEYSMITH_MASTER_KEY: 'ab'.repeat(32), KEYCLOAK_RETRY_BASE_MS: '1', ...env });
    return new KeycloakAdmin(config, new KeycloakService(config, new MetricsRegistry(), new Random()), clock);
  };
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  };
  const script = (...statuses: number[]) => {
    let call = 0;
    admin = (_req, res) => {
      const status = statuses[Math.min(call, statuses.length - 1)];
      call += 1;
      json(res, status, status < 300 ? [] : { error: 'scripted' });
    };
    return () => call;
  };

  it('retries reads on 5xx and 429 with backoff, then succeeds', async () => {
    const calls = script(503, 500, 429, 200);
    await expect(service().read('find client', (kc) => kc.clients.find({ realm: 'platform' }))).resolves.toEqual([]);
    expect(calls()).toBe(4);
  });

  it('gives up after the configured retries with 503 KEYCLOAK_UNAVAILABLE', async () => {
    const calls = script(502);
    const error = await service({ KEYCLOAK_MAX_RETRIES: '2' })
      .read('find client', (kc) => kc.clients.find({ realm: 'platform' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('KEYCLOAK_UNAVAILABLE');
    expect(calls()).toBe(3);
  });

  it('does not repeat a write that may have been applied (500), but does when refused before work (503)', async () => {
    const failed = script(500, 201);
    const error = await service()
      .write('create client', (kc) => kc.clients.create({ realm: 'platform', clientId: 'x' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeycloakHttpError);
    expect(failed()).toBe(1);

    let call = 0;
    admin = (_req, res) => {
      call += 1;
      if (call === 1) return json(res, 503, { error: 'busy' });
      res.statusCode = 201;
      res.setHeader('location', `${baseUrl}/admin/realms/platform/clients/new-id`);
      res.end();
    };
    await expect(service().write('create client', (kc) => kc.clients.create({ realm: 'platform', clientId: 'x' }))).resolves.toEqual({ id: 'new-id' });
    expect(call).toBe(2);
  });

  it('authenticates again after a 401 and repeats the call once', async () => {
    const calls = script(401, 200);
    const keycloak = service();
    await expect(keycloak.read('find client', (kc) => kc.clients.find({ realm: 'platform' }))).resolves.toEqual([]);
    expect(calls()).toBe(2);
    expect(tokenRequests).toBe(2);
  });

  it('reuses a token until shortly before it expires, then fetches a new one', async () => {
    script(200);
    const keycloak = service();
    await keycloak.read('a', (kc) => kc.clients.find({ realm: 'platform' }));
    await keycloak.read('b', (kc) => kc.clients.find({ realm: 'platform' }));
    expect(tokenRequests).toBe(1);

    tokenLifetime = 1;
    const clock = new SteppedClock();
    const shortLived = service({}, clock);
    await shortLived.read('a', (kc) => kc.clients.find({ realm: 'platform' }));
    clock.offsetMs = 400;
    await shortLived.read('b', (kc) => kc.clients.find({ realm: 'platform' }));
    expect(tokenRequests).toBe(2);
    clock.offsetMs = 600;
    await shortLived.read('c', (kc) => kc.clients.find({ realm: 'platform' }));
    expect(tokenRequests).toBe(3);
  });

  it('turns a 403 into KEYCLOAK_PERMISSION_MISSING naming the roles it needs', async () => {
    script(403);
    const error = (await service()
      .read('list client scopes', (kc) => kc.clientScopes.find({ realm: 'platform' }))
      .catch((e: unknown) => e)) as DomainError;
    expect(error.code).toBe('KEYCLOAK_PERMISSION_MISSING');
    expect(error.detail).toContain('list client scopes');
    expect(error.extensions.neededRoles).toEqual(expect.arrayContaining(['manage-clients', 'view-realm']));
  });

  it('never runs more calls at once than KEYCLOAK_MAX_CONCURRENCY', async () => {
    admin = (_req, res) => setTimeout(() => json(res, 200, []), 20);
    const keycloak = service({ KEYCLOAK_MAX_CONCURRENCY: '2' });
    await Promise.all(Array.from({ length: 8 }, () => keycloak.read('find', (kc) => kc.clients.find({ realm: 'platform' }))));
    expect(maxInFlight).toBe(2);
  });

  it('answers 503 KEYCLOAK_UNAVAILABLE when nothing listens', async () => {
    const config = loadConfig({ KEYCLOAK_URL: 'http://127.0.0.1:9', KEYCLOAK_CLIENT_SECRET: 'x-secret', KEYSMITH_MASTER_KEY: 'ab'.repeat(32), KEYCLOAK_RETRY_BASE_MS: '1' });
    const closed = new KeycloakAdmin(config, new KeycloakService(config, new MetricsRegistry(), new Random()), new Clock());
    const error = (await closed.read('find client', (kc) => kc.clients.find({ realm: 'platform' })).catch((e: unknown) => e)) as DomainError;
    expect(error.code).toBe('KEYCLOAK_UNAVAILABLE');
  });

  describe('client-credentials token requests', () => {
    const services: KeycloakService[] = [];
    const tokenService = (env: Record<string, string> = {}) => {
      const config = loadConfig({ KEYCLOAK_URL: baseUrl, KEYCLOAK_CLIENT_SECRET: 'test-secret', KEYSMITH_MASTER_KEY: 'ab'.repeat(32), KEYCLOAK_RETRY_BASE_MS: '1', ...env });
      const keycloak = new KeycloakService(config, new MetricsRegistry(), new Random());
      services.push(keycloak);
      return keycloak;
    };
    afterEach(async () => {
      await Promise.all(services.splice(0).map((keycloak) => keycloak.onApplicationShutdown()));
    });

    it('answers the token, its lifetime and scopes, sending the client, secret and scope as a form', async () => {
      let form: URLSearchParams | undefined;
      tokenAnswer = (req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          form = new URLSearchParams(body);
          json(res, 200, { access_token: 'the-token', expires_in: 120, scope: 'read:data profile' });
        });
      };
      const result = await tokenService().clientCredentials('platform', 'orders', 's3cret', 'read:data');
      expect(result).toEqual({ ok: true, status: 200, accessToken: 'the-token', expiresIn: 120, scope: 'read:data profile' });
      expect(Object.fromEntries(form!)).toEqual({ grant_type: 'client_credentials', client_id: 'orders', client_secret: 's3cret', scope: 'read:data' });
    });

    it("returns Keycloak's refusal with its OAuth error, without retrying it", async () => {
      tokenAnswer = (_req, res) => json(res, 401, { error: 'unauthorized_client', error_description: 'Invalid client secret' });
      const result = await tokenService().clientCredentials('platform', 'orders', 'wrong');
      expect(result).toEqual({ ok: false, status: 401, error: 'unauthorized_client' });
      expect(tokenRequests).toBe(1);
    });

    it('retries a 5xx answer, then answers the token', async () => {
      let calls = 0;
      tokenAnswer = (_req, res) => {
        calls += 1;
        if (calls < 3) json(res, 503, { error: 'unavailable' });
        else json(res, 200, { access_token: 'late-token', expires_in: 60 });
      };
      const result = await tokenService({ KEYCLOAK_MAX_RETRIES: '3' }).clientCredentials('platform', 'orders', 's3cret');
      expect(result).toMatchObject({ ok: true, accessToken: 'late-token', expiresIn: 60 });
      expect(calls).toBe(3);
    });

    it('is 503 KEYCLOAK_UNAVAILABLE when Keycloak does not answer within KEYCLOAK_TIMEOUT_MS', async () => {
      const stalled: ServerResponse[] = [];
      tokenAnswer = (_req, res) => void stalled.push(res);
      try {
        const error = (await tokenService({ KEYCLOAK_TIMEOUT_MS: '150', KEYCLOAK_MAX_RETRIES: '1' })
          .clientCredentials('platform', 'orders', 's3cret')
          .catch((e: unknown) => e)) as DomainError;
        expect(error).toBeInstanceOf(DomainError);
        expect(error.code).toBe('KEYCLOAK_UNAVAILABLE');
        expect(JSON.stringify(error)).not.toContain('s3cret');
        // The first try and one retry, each cut at the timeout.
        expect(stalled).toHaveLength(2);
      } finally {
        for (const res of stalled) res.destroy();
      }
    });
  });
});
