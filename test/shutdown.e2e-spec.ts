import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebhooksService } from '../src/webhooks/webhooks.service.js';
import { removeRunClients } from './chaos/invariants.js';
import { adminToken, authHeaders } from './support/auth.js';
import { closeAllInstances, ensureBuilt, startInstance, type KeysmithInstance } from './support/instances.js';
import { keycloakEnv } from './support/keycloak-env.js';
import { createTestApp } from './support/test-app.js';
import { dropTestDatabase } from './support/test-database.js';

const WEBHOOK_SECRET = 'webhook-signing-secret-for-shutdown-tests';

describe('shutdown: background work stops before the database closes', () => {
  let receiver: Server;
  let received = 0;
  let port = 0;

  beforeAll(async () => {
    // Answers each delivery after 300 ms: the app closes while the dispatcher waits for it.
    receiver = createServer((req, res) => {
      req.resume();
      received += 1;
      setTimeout(() => res.writeHead(204).end(), 300);
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    port = (receiver.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

  it('a close while a webhook delivery is being sent waits for it and records it: no query reaches a closed database', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'keysmith-shutdown-'));
    const t = await createTestApp({
      dataDir,
      env: { KEYSMITH_WEBHOOK_URLS: `http://127.0.0.1:${port}/hooks`, KEYSMITH_WEBHOOK_SECRET: WEBHOOK_SECRET, KEYSMITH_WEBHOOK_TIMEOUT_MS: '5000' },
    });
    t.secrets.add(WEBHOOK_SECRET);
    const webhooks = t.app.get(WebhooksService);
    const { eventId } = await webhooks.publish('service_account.orphaned', { realm: 'platform', clientId: 'shutdown-probe' });
    const before = received;
    while (received === before) await new Promise((resolve) => setTimeout(resolve, 10));
    await t.close();
    const failures = t.logs.text().split('\n').filter((line) => /Database handle is closed|SQLITE_MISUSE|Connection terminated|after calling end|webhook delivery failed/i.test(line));
    expect(failures).toEqual([]);

    // The attempt was recorded as delivered before the database closed.
    const reopened = await createTestApp({ dataDir });
    try {
      const attempts = await reopened.app.get(WebhooksService).attempts(eventId);
      expect(attempts.map((row) => row.state)).toEqual(['done']);
    } finally {
      await reopened.close();
      dropTestDatabase(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

// A close waits for its lifecycle hooks (the job scheduler for its runs); one that never settles
// must not keep the process alive: KEYSMITH_SHUTDOWN_TIMEOUT_SECONDS bounds it (armShutdownDeadline).
describe('shutdown: a close that cannot finish is bounded', () => {
  let token: string;

  beforeAll(async () => {
    ensureBuilt();
    token = await adminToken();
  }, 300_000);

  afterAll(async () => {
    await closeAllInstances();
  });

  const send = async (instance: KeysmithInstance, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${instance.url}${path}`, {
      method,
      headers: { ...authHeaders(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('SIGTERM during a job run that hangs: the process exits with 1 after the timeout, naming the hook still waiting; without a hang it ends on the signal', async () => {
    const realm = keycloakEnv().KEYSMITH_MANAGED_REALMS.split(',')[0].trim();
    const clientId = `shutdown-${randomBytes(3).toString('hex')}`;
    // The second read of role mappings is the drift job's (the first is the create's): it stalls for ten minutes.
    const instance = await startInstance({
      name: 'stuck',
      env: { KEYSMITH_SCHEDULER: 'off', KEYSMITH_SHUTDOWN_TIMEOUT_SECONDS: '2', KEYSMITH_FAULT_POINTS: 'keycloak.list-role-mappings=pause:600000@2' },
    });
    try {
      expect((await send(instance, 'POST', `/v1/realms/${realm}/service-accounts`, { clientId, owner: 'shutdown' })).status).toBe(201);
      const started = await send(instance, 'POST', '/v1/jobs/drift/run', {});
      expect(started.status).toBe(202);
      const run = await send(instance, 'GET', `/v1/jobs/drift/runs/${String(started.body.runId)}`);
      expect(run.body.outcome).toBe('running');

      await instance.kill('SIGTERM');

      expect(instance.exitStatus).toEqual({ code: 1, signal: null });
      const log = instance.output();
      expect(log).toContain('SIGTERM: closing (at most 2 s, KEYSMITH_SHUTDOWN_TIMEOUT_SECONDS)');
      expect(log).toMatch(/the close did not finish within 2 s; still waiting for [^"]*JobsService\.beforeApplicationShutdown[^"]*; exiting/);

      // The same instance without the stall, closing during another run (the drift run's lease outlives
      // the process): the close finishes and the process ends on the signal.
      await instance.restart({ KEYSMITH_FAULT_POINTS: '' });
      const before = instance.output().length;
      expect((await send(instance, 'POST', '/v1/jobs/key-expiry/run', {})).status).toBe(202);
      await instance.kill('SIGTERM');
      expect(instance.exitStatus).toEqual({ code: null, signal: 'SIGTERM' });
      const after = instance.output().slice(before);
      expect(after).toContain('SIGTERM: closing');
      expect(after).not.toContain('did not finish');
    } finally {
      await removeRunClients(realm, clientId);
    }
  }, 180_000);
});
