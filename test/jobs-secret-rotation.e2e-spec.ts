import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { jest } from '@jest/globals';
import { KeycloakClientsGateway } from '../src/keycloak/keycloak-clients.gateway.js';
import { KeycloakService } from '../src/keycloak/keycloak.service.js';
import { WebhooksService, signWebhook } from '../src/webhooks/webhooks.service.js';
import { poll } from './support/poll.js';
import { SecretRotationService } from '../src/service-accounts/usecases/rotate-secret/secret-rotation.service.js';
import { runJob } from './support/jobs.js';
import { clientCredentialsToken, keycloakAdmin, uniqueClientId } from './support/keycloak-admin.js';
import { authenticateSuite } from './support/auth.js';
import { createTestApp, type TestApp } from './support/test-app.js';
import { allLogRecords, expectNoSecretInLogs } from './support/secret-scan.js';

const realm = 'platform';
const base = `/v1/realms/${realm}/service-accounts`;
const HOUR = 60 * 60 * 1000;
const WEBHOOK_SECRET = 'webhook-signing-secret-for-tests';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

describe('Scheduled jobs: secret rotation (real Keycloak)', () => {
  let t: TestApp;
  let kc: KcAdminClient;
  let receiver: Server;
  const received: Received[] = [];
  /** The receiver answers 500 to this many deliveries about this client, then 204. */
  const failing = { clientId: '', count: 0 };

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        const about = (JSON.parse(body) as { data?: { clientId?: string } }).data?.clientId;
        const fail = about !== undefined && about === failing.clientId && failing.count > 0;
        if (fail) failing.count -= 1;
        res.statusCode = fail ? 500 : 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const port = (receiver.address() as AddressInfo).port;
    t = await createTestApp({
      env: {
        KEYSMITH_WEBHOOK_URLS: `http://127.0.0.1:${port}/hooks`,
        KEYSMITH_WEBHOOK_SECRET: WEBHOOK_SECRET,
        KEYSMITH_WEBHOOK_RETRY_BASE_MS: '10',
        // The health check paces itself on the real clock: fast and unspread for the suite.
        KEYSMITH_SECRET_HEALTH_RATE: '50',
        KEYSMITH_SECRET_HEALTH_SPREAD_MINUTES: '0',
      },
    });
    await authenticateSuite(t);
    kc = await keycloakAdmin();
  });
  afterAll(async () => {
    await t.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  const create = async (extra: Record<string, unknown> = {}) => {
    const clientId = uniqueClientId('rotating');
    const res = await t.inject({ method: 'POST', url: base, payload: { clientId, owner: 'team-rot', realmRoles: ['orders-reader'], ...extra } });
    expect(res.statusCode).toBe(201);
    t.secrets.add(res.json().clientSecret);
    return { clientId, secret: res.json().clientSecret as string, keycloakId: res.json().keycloakId as string };
  };
  const tokenStatus = async (clientId: string, secret: string) => (await clientCredentialsToken(realm, clientId, secret)).status;
  const keycloakSecret = async (id: string) => (await kc.clients.getClientSecret({ realm, id })).value;
  const storedSecret = async (clientId: string) => {
    const res = await t.inject({ method: 'GET', url: `${base}/${clientId}/secret` });
    expect(res.statusCode).toBe(200);
    return res.json().clientSecret as string;
  };

  it('lists the jobs with schedule and last run', async () => {
    const res = await t.inject({ method: 'GET', url: '/v1/jobs' });
    expect(res.statusCode).toBe(200);
    expect(res.json().items).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'secret-rotation', schedule: '30 2 * * *', enabled: false })]));
  });

  it('rotates on demand: the new secret works at once, the old one until the grace window ends', async () => {
    const account = await create();
    const res = await t.inject({ method: 'POST', url: `${base}/${account.clientId}/secret/rotate`, payload: { graceHours: 24 } });
    expect(res.statusCode).toBe(200);
    const { clientSecret, previousSecretValidUntil } = res.json();
    t.secrets.add(clientSecret);
    expect(clientSecret).not.toBe(account.secret);
    expect(new Date(previousSecretValidUntil).getTime() - t.clock.nowMs()).toBeGreaterThan(23 * HOUR);

    expect(await tokenStatus(account.clientId, clientSecret)).toBe(200);
    expect(await tokenStatus(account.clientId, account.secret)).toBe(200);
    expect(await storedSecret(account.clientId)).toBe(clientSecret);
    expect(await keycloakSecret(account.keycloakId)).toBe(clientSecret);

    t.clock.advance(25 * HOUR);
    const run = await runJob(t, 'secret-rotation');
    expect(run.outcome).toBe('success');
    expect(run.details).toEqual(expect.arrayContaining([{ realm, clientId: account.clientId, action: 'invalidated-previous' }]));
    expect(await tokenStatus(account.clientId, account.secret)).toBe(401);
    expect(await tokenStatus(account.clientId, clientSecret)).toBe(200);
  });

  it('graceHours 0 ends the previous secret at once', async () => {
    const account = await create();
    const res = await t.inject({ method: 'POST', url: `${base}/${account.clientId}/secret/rotate`, payload: { graceHours: 0 } });
    t.secrets.add(res.json().clientSecret);
    expect(await tokenStatus(account.clientId, account.secret)).toBe(401);
    expect(await tokenStatus(account.clientId, res.json().clientSecret)).toBe(200);
  });

  it('the job rotates accounts whose nextRotationAt has passed, and a dry run changes nothing', async () => {
    const account = await create({ secretRotation: { everyDays: 1, graceHours: 2 } });
    t.clock.advance(25 * HOUR);
    const dry = await runJob(t, 'secret-rotation', { dryRun: true });
    expect(dry.details).toEqual(expect.arrayContaining([{ realm, clientId: account.clientId, action: 'would-rotate' }]));
    expect(await keycloakSecret(account.keycloakId)).toBe(account.secret);

    const run = await runJob(t, 'secret-rotation');
    expect(run.details).toEqual(expect.arrayContaining([{ realm, clientId: account.clientId, action: 'rotated' }]));
    const newSecret = await storedSecret(account.clientId);
    t.secrets.add(newSecret);
    expect(newSecret).not.toBe(account.secret);
    expect(await keycloakSecret(account.keycloakId)).toBe(newSecret);
    expect(await tokenStatus(account.clientId, account.secret)).toBe(200);

    const audit = await t.inject({ method: 'GET', url: `/v1/audit-events?action=client_secret.rotated&clientId=${account.clientId}` });
    expect(audit.json().items).toHaveLength(1);
    expect(audit.json().items[0].actor).toEqual({ type: 'job', id: 'secret-rotation' });
    expect(JSON.stringify(audit.json())).not.toContain(newSecret);

    const view = await t.inject({ method: 'GET', url: `${base}/${account.clientId}` });
    expect(new Date(view.json().secretRotation.nextRotationAt).getTime()).toBeGreaterThan(t.clock.nowMs() + 23 * HOUR);
  });

  describe('a crash injected after each step, then a new run: no secret lost, rotation completed', () => {
    // Each crash hits only the account under test: other accounts may be due in the same run.
    type Account = { clientId: string; keycloakId: string };
    const crashes: [string, (account: Account) => void][] = [
      [
        'after step 1 (regenerated, not stored)',
        (account) => {
          const gateway = t.app.get(KeycloakClientsGateway);
          const original = gateway.clientSecret.bind(gateway);
          jest.spyOn(gateway, 'clientSecret').mockImplementation(async (r, clientId) => {
            if (clientId === account.clientId) throw new Error('crash');
            return original(r, clientId);
          });
        },
      ],
      [
        'after step 2 (stored, not verified)',
        (account) => {
          const keycloak = t.app.get(KeycloakService);
          const original = keycloak.clientCredentials.bind(keycloak);
          jest.spyOn(keycloak, 'clientCredentials').mockImplementation(async (r, clientId, secret) => {
            if (clientId === account.clientId) throw new Error('crash');
            return original(r, clientId, secret);
          });
        },
      ],
      [
        'after step 3 (verified, not notified)',
        (account) => {
          const webhooks = t.app.get(WebhooksService);
          const original = webhooks.publish.bind(webhooks);
          jest.spyOn(webhooks, 'publish').mockImplementation(async (type, data) => {
            if (data.clientId === account.clientId && type === 'client_secret.rotated') throw new Error('crash');
            return original(type, data);
          });
        },
      ],
    ];
    it.each(crashes)('%s', async (_label, inject) => {
      const account = await create({ secretRotation: { everyDays: 1, graceHours: 1 } });
      t.clock.advance(25 * HOUR);
      inject(account);
      const crashed = await runJob(t, 'secret-rotation');
      expect(crashed.details).toEqual(expect.arrayContaining([expect.objectContaining({ clientId: account.clientId, action: 'failed' })]));
      expect(crashed.outcome).toBe('partial');
      // The failed item is logged with its code, not only recorded in the run.
      expect(allLogRecords()).toEqual(
        expect.arrayContaining([expect.objectContaining({ job: 'secret-rotation', runId: crashed.id, clientId: account.clientId, code: expect.any(String) })]),
      );
      jest.restoreAllMocks();

      const resumed = await runJob(t, 'secret-rotation');
      expect(resumed.details).toEqual(expect.arrayContaining([{ realm, clientId: account.clientId, action: 'resumed' }]));
      const stored = await storedSecret(account.clientId);
      t.secrets.add(stored);
      expect(stored).toBe(await keycloakSecret(account.keycloakId));
      expect(await tokenStatus(account.clientId, stored)).toBe(200);

      t.clock.advance(2 * HOUR);
      await runJob(t, 'secret-rotation');
      expect(await tokenStatus(account.clientId, account.secret)).toBe(401);
      expect(await tokenStatus(account.clientId, stored)).toBe(200);
    });
  });

  it('leaves a client Keysmith does not manage with its secret and policy', async () => {
    const clientId = uniqueClientId('foreign-rot');
    await kc.clients.create({ realm, clientId, publicClient: false, serviceAccountsEnabled: true, secret: 'foreign-secret-value-1234' });
    const [client] = await kc.clients.find({ realm, clientId });
    t.clock.advance(400 * 24 * HOUR);
    await runJob(t, 'secret-rotation');
    expect(await keycloakSecret(client.id!)).toBe('foreign-secret-value-1234');
    // The rotation policy does not apply to it: regenerating keeps no rotated secret.
    await kc.clients.generateNewClientSecret({ realm, id: client.id! });
    expect(await tokenStatus(clientId, 'foreign-secret-value-1234')).toBe(401);
    const after = await kc.clients.findOne({ realm, id: client.id! });
    expect(after!.attributes?.['client.secret.expiration.time']).toBeUndefined();
    await kc.clients.del({ realm, id: client.id! });
  });

  it('signs webhooks and retries failed deliveries in the background', async () => {
    const account = await create();
    Object.assign(failing, { clientId: account.clientId, count: 2 });
    const res = await t.inject({ method: 'POST', url: `${base}/${account.clientId}/secret/rotate`, payload: {} });
    expect(res.statusCode).toBe(200);
    t.secrets.add(res.json().clientSecret);
    const ofAccount = () => received.filter((r) => r.headers['x-keysmith-event'] === 'client_secret.rotated' && JSON.parse(r.body).data.clientId === account.clientId);
    const rotated = await poll(ofAccount, (seen) => seen.length >= 3);
    expect(rotated).toHaveLength(3);
    const last = rotated[2];
    const signature = String(last.headers['x-keysmith-signature']);
    const timestamp = Number(/t=(\d+)/.exec(signature)![1]);
    expect(signature).toBe(signWebhook(WEBHOOK_SECRET, timestamp, last.body));
    expect(signWebhook('another-secret-of-16+', timestamp, last.body)).not.toBe(signature);
    expect(JSON.parse(last.body)).toMatchObject({ type: 'client_secret.rotated', data: { realm, clientId: account.clientId } });
    expect(last.body).not.toContain(res.json().clientSecret);
    const webhooks = t.app.get(WebhooksService);
    const attempts = await poll(() => webhooks.attempts(JSON.parse(last.body).id), (rows) => rows.length === 3 && rows.every((row) => row.state === 'done'));
    expect(attempts.map((a) => [a.attempt, a.status, a.delivered])).toEqual([
      [1, 500, false],
      [2, 500, false],
      [3, 204, true],
    ]);
    expect(ofAccount()).toHaveLength(3);
  });

  it('two instances on one database file and one clock run a job once', async () => {
    const second = await createTestApp({ dataDir: t.dataDir, clock: t.clock });
    await authenticateSuite(second);
    // Whichever instance wins holds its run open until both requests are answered, so the loser
    // cannot arrive after the winner already finished.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const held = [t, second].map((app) => {
      const rotation = app.app.get(SecretRotationService);
      const original = rotation.processDue.bind(rotation);
      return jest.spyOn(rotation, 'processDue').mockImplementation(async (...args) => {
        await gate;
        return original(...args);
      });
    });
    try {
      const starts = await Promise.all([
        t.inject({ method: 'POST', url: '/v1/jobs/secret-rotation/run', payload: {} }),
        second.inject({ method: 'POST', url: '/v1/jobs/secret-rotation/run', payload: {} }),
      ]);
      expect(starts.map((r) => r.statusCode).sort()).toEqual([202, 409]);
      expect(starts.find((r) => r.statusCode === 409)!.json().code).toBe('JOB_RUNNING');
      release();
      const winner = starts.find((r) => r.statusCode === 202)!.json().runId;
      const runs = async () => (await t.inject({ method: 'GET', url: '/v1/jobs/secret-rotation/runs?limit=500' })).json().items;
      let run = (await runs()).find((r: { id: string }) => r.id === winner);
      for (let i = 0; i < 100 && run?.outcome === 'running'; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        run = (await runs()).find((r: { id: string }) => r.id === winner);
      }
      expect(run.outcome).not.toBe('running');
      expect(held.reduce((calls, spy) => calls + spy.mock.calls.length, 0)).toBe(1);
    } finally {
      release();
      held.forEach((spy) => spy.mockRestore());
      await second.close();
    }
  });


  it('runs a job at start-up when its last success is older than its interval (catch-up)', async () => {
    const third = await createTestApp({ env: { KEYSMITH_SCHEDULER: 'on' } });
    await authenticateSuite(third);
    try {
      let runs = await third.inject({ method: 'GET', url: '/v1/jobs/secret-rotation/runs' });
      for (let i = 0; i < 100 && runs.json().items.length === 0; i += 1) {
        await new Promise((r) => setTimeout(r, 50));
        runs = await third.inject({ method: 'GET', url: '/v1/jobs/secret-rotation/runs' });
      }
      expect(runs.json().items[0]).toMatchObject({ job: 'secret-rotation', trigger: 'catch-up' });
      const jobs = await third.inject({ method: 'GET', url: '/v1/jobs' });
      expect(jobs.json().items.find((j: { name: string }) => j.name === 'secret-rotation')).toMatchObject({ enabled: true, nextRunAt: expect.any(String) });
    } finally {
      await third.close();
    }
  });

  describe('a realm without the rotation policy', () => {
    const other = 'partners';
    let saved: Awaited<ReturnType<KcAdminClient['clientPolicies']['listPolicies']>>;

    beforeAll(async () => {
      saved = await kc.clientPolicies.listPolicies({ realm: other });
      await kc.clientPolicies.updatePolicy({ realm: other, policies: (saved.policies ?? []).filter((p) => p.name !== 'keysmith-managed-clients') });
    });
    afterAll(async () => {
      await kc.clientPolicies.updatePolicy({ realm: other, policies: saved.policies ?? [] });
    });

    const createIn = async (app: TestApp) => {
      const clientId = uniqueClientId('no-policy');
      const res = await app.inject({ method: 'POST', url: `/v1/realms/${other}/service-accounts`, payload: { clientId, owner: 'team-rot', realmRoles: ['orders-reader'] } });
      expect(res.statusCode).toBe(201);
      t.secrets.add(res.json().clientSecret);
      return { clientId, secret: res.json().clientSecret as string };
    };

    it('is reported in /readyz and refuses rotation unless cut-over is allowed; then cuts over at once', async () => {
      const strict = await createTestApp();
      await authenticateSuite(strict);
      try {
        let ready = (await strict.inject({ method: 'GET', url: '/readyz' })).json().details.secretRotation;
        for (let i = 0; i < 40 && ready.graceWindow === 'unknown'; i += 1) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          ready = (await strict.inject({ method: 'GET', url: '/readyz' })).json().details.secretRotation;
        }
        expect(ready).toMatchObject({ graceWindow: false, realms: { partners: { feature: true, policy: false }, platform: { feature: true, policy: true } } });
        const account = await createIn(strict);
        const refused = await strict.inject({ method: 'POST', url: `/v1/realms/${other}/service-accounts/${account.clientId}/secret/rotate`, payload: {} });
        expect(refused.statusCode).toBe(409);
        expect(refused.json().code).toBe('SECRET_ROTATION_UNAVAILABLE');
        expect(await clientCredentialsToken(other, account.clientId, account.secret)).toMatchObject({ status: 200 });
      } finally {
        await strict.close();
      }

      const cutover = await createTestApp({ env: { KEYSMITH_SECRET_ROTATION_ALLOW_CUTOVER: 'true' } });
      await authenticateSuite(cutover);
      try {
        const account = await createIn(cutover);
        const rotated = await cutover.inject({ method: 'POST', url: `/v1/realms/${other}/service-accounts/${account.clientId}/secret/rotate`, payload: { graceHours: 24 } });
        expect(rotated.statusCode).toBe(200);
        t.secrets.add(rotated.json().clientSecret);
        expect(new Date(rotated.json().previousSecretValidUntil).getTime()).toBeLessThanOrEqual(Date.now() + 1000);
        expect((await clientCredentialsToken(other, account.clientId, rotated.json().clientSecret)).status).toBe(200);
        expect((await clientCredentialsToken(other, account.clientId, account.secret)).status).toBe(401);
      } finally {
        await cutover.close();
      }
    });
  });

  describe('the secret health check', () => {
    it('proves stored secrets, reports a secret Keycloak no longer accepts, and repairs only when told', async () => {
      const healthy = await create();
      const broken = await create();
      // Two regenerations behind Keysmith's back: Keycloak keeps one rotated secret, so the stored one dies.
      await kc.clients.generateNewClientSecret({ realm, id: broken.keycloakId });
      await kc.clients.generateNewClientSecret({ realm, id: broken.keycloakId });
      expect(await tokenStatus(broken.clientId, broken.secret)).toBe(401);
      // One regeneration: the stored secret still works, but only as Keycloak's rotated one, until that expires.
      const fading = await create();
      await kc.clients.generateNewClientSecret({ realm, id: fading.keycloakId });
      expect(await tokenStatus(fading.clientId, fading.secret)).toBe(200);
      received.length = 0;

      const run = await runJob(t, 'secret-health');
      expect(run.details).toEqual(expect.arrayContaining([{ realm, clientId: broken.clientId, result: 'mismatch' }, { realm, clientId: fading.clientId, result: 'mismatch' }]));
      expect(run.details).not.toEqual(expect.arrayContaining([expect.objectContaining({ clientId: healthy.clientId })]));
      expect(run.counts.ok).toBeGreaterThanOrEqual(1);
      const audit = await t.inject({ method: 'GET', url: `/v1/audit-events?action=client_secret.mismatch&clientId=${broken.clientId}` });
      expect(audit.json().items).toEqual([expect.objectContaining({ outcome: 'failure', detail: expect.objectContaining({ repair: false }) })]);
      const events = await poll(() => received.map((r) => r.headers['x-keysmith-event']), (seen) => seen.includes('client_secret.mismatch'));
      expect(events).toContain('client_secret.mismatch');
      expect((await t.inject({ method: 'GET', url: '/metrics' })).body).toMatch(/keysmith_secret_mismatches\{realm="platform"\} [1-9]/);
      // Reporting changed nothing.
      expect(await storedSecret(broken.clientId)).toBe(broken.secret);

      const repairing = await createTestApp({ dataDir: t.dataDir, clock: t.clock, env: { KEYSMITH_SECRET_HEALTH_REPAIR: 'true', KEYSMITH_SECRET_HEALTH_RATE: '50', KEYSMITH_SECRET_HEALTH_SPREAD_MINUTES: '0' } });
      await authenticateSuite(repairing);
      try {
        const repaired = await runJob(repairing, 'secret-health');
        expect(repaired.details).toEqual(expect.arrayContaining([{ realm, clientId: broken.clientId, result: 'repaired' }, { realm, clientId: fading.clientId, result: 'repaired' }]));
      } finally {
        await repairing.close();
      }
      const stored = await storedSecret(broken.clientId);
      t.secrets.add(stored);
      expect(stored).toBe(await keycloakSecret(broken.keycloakId));
      expect(await tokenStatus(broken.clientId, stored)).toBe(200);
      expect(await tokenStatus(healthy.clientId, healthy.secret)).toBe(200);
      const fadingStored = await storedSecret(fading.clientId);
      t.secrets.add(fadingStored);
      expect(fadingStored).toBe(await keycloakSecret(fading.keycloakId));
      // A cut-over: the secret Keysmith did not store is ended with the repair.
      expect(await tokenStatus(fading.clientId, fading.secret)).toBe(401);
    });
  });

  describe("Keycloak's executor expiration-period against every account's everyDays", () => {
    const other = 'partners';
    const SIXTY_DAYS = String(60 * 24 * 60 * 60);
    let savedProfiles: Awaited<ReturnType<KcAdminClient['clientPolicies']['listProfiles']>>;

    beforeAll(async () => {
      savedProfiles = await kc.clientPolicies.listProfiles({ realm: other });
      const profiles = (savedProfiles.profiles ?? []).map((profile) => ({
        ...profile,
        executors: profile.executors?.map((e) => (e.executor === 'secret-rotation' ? { ...e, configuration: { ...e.configuration, 'expiration-period': SIXTY_DAYS } } : e)),
      }));
      await kc.clientPolicies.createProfiles({ realm: other, profiles });
    });
    afterAll(async () => {
      await kc.clientPolicies.createProfiles({ realm: other, profiles: savedProfiles.profiles ?? [] });
    });

    it('names, at start-up and in /readyz, each account that would rotate after Keycloak regenerates its secret', async () => {
      const createIn = async (everyDays: number) => {
        const clientId = uniqueClientId('expiring');
        const res = await t.inject({ method: 'POST', url: `/v1/realms/${other}/service-accounts`, payload: { clientId, owner: 'team-rot', secretRotation: { everyDays, graceHours: 1 } } });
        expect(res.statusCode).toBe(201);
        t.secrets.add(res.json().clientSecret);
        return clientId;
      };
      const tooLate = await createIn(90);
      const inTime = await createIn(60);
      const booted = await createTestApp({ dataDir: t.dataDir, clock: t.clock });
      await authenticateSuite(booted);
      try {
        let ready = (await booted.inject({ method: 'GET', url: '/readyz' })).json().details.secretRotation;
        for (let i = 0; i < 60 && ready.realms?.[other]?.expirationPeriodDays !== 60; i += 1) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          ready = (await booted.inject({ method: 'GET', url: '/readyz' })).json().details.secretRotation;
        }
        expect(ready.expirationPeriodOk).toBe(false);
        expect(ready.realms[other]).toMatchObject({ feature: true, policy: true, expirationPeriodDays: 60 });
        expect(ready.realms[other].accountsBeyondExpiration).toContain(tooLate);
        expect(ready.realms[other].accountsBeyondExpiration).not.toContain(inTime);
        expect(ready.realms.platform).toMatchObject({ expirationPeriodDays: 3650, accountsBeyondExpirationCount: 0 });
        // Logged at start-up (the process-wide pino root may write to the suite's first app's capture).
        const warning = `Keycloak's secret-rotation executor in realm ${other} regenerates secrets after 60 days`;
        const logged = () => booted.logs.text() + t.logs.text();
        for (let i = 0; i < 60 && !logged().includes(warning); i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
        expect(logged()).toContain(warning);
      } finally {
        await booted.close();
      }
    });
  });

  it('exposes job metrics', async () => {
    const res = await t.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/keysmith_job_runs_total\{job_name="secret-rotation",outcome="success"\} \d+/);
    expect(res.body).toMatch(/keysmith_job_seconds_since_last_success\{job_name="secret-rotation"\} [\d.]+/);
  });

  it('logs no secret this suite knows of', () => {
    t.secrets.add(WEBHOOK_SECRET);
    expectNoSecretInLogs('jobs-secret-rotation');
  });
});
