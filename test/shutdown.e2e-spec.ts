import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebhooksService } from '../src/webhooks/webhooks.service.js';
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
