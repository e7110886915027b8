import { DataSource, type Repository } from 'typeorm';
import { Random } from '../common/random/random.js';
import { Clock } from '../common/time/clock.js';
import type { AppConfig } from '../config/app-config.js';
import { loadMigrations } from '../database/migrations.loader.js';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';
import type { AttemptResult } from './webhook-retry.js';
import type { OutgoingWebhook, WebhookSender } from './webhook-sender.js';
import { WebhooksService } from './webhooks.service.js';

/** A clock the test sets. */
class ManualClock extends Clock {
  ms = Date.UTC(2030, 0, 1);
  override now(): Date {
    return new Date(this.ms);
  }
}

/** Answers each attempt with the next scripted result; `hold()` keeps attempts open until released. */
class ScriptedSender {
  sent: OutgoingWebhook[] = [];
  results: AttemptResult[] = [];
  private gate?: Promise<void>;
  private open?: () => void;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open?.();
    this.gate = undefined;
  }
  async send(webhook: OutgoingWebhook): Promise<AttemptResult> {
    this.sent.push(webhook);
    await this.gate;
    return this.results.shift() ?? { status: 204, error: null };
  }
}

const URL_A = 'http://receiver.test/hooks';
const BASE_MS = 1_000;
const TIMEOUT_MS = 5_000;
const failed = { status: 500, error: null };

// The outbox's claims are conditional UPDATEs, so the worker runs on the real schema (the
// project's migrations on an in-memory SQLite database); the HTTP sender is a fake and time is a
// manual clock. Workers are never started here: each test drains by hand.
describe('WebhookDispatcher (webhook outbox: claims, retries, take-over)', () => {
  let db: DataSource;
  let rows: Repository<WebhookDeliveryEntity>;
  let clock: ManualClock;
  let sender: ScriptedSender;
  let config: AppConfig;
  let worker: WebhookDispatcher;
  let webhooks: WebhooksService;

  const dispatcher = () => new WebhookDispatcher(rows, sender as unknown as WebhookSender, config, clock, new Random());
  const states = async () => (await rows.find({ order: { attempt: 'ASC' } })).map((row) => [row.attempt, row.state, row.status, row.delivered]);

  beforeAll(async () => {
    db = await new DataSource({ type: 'sqlite', database: ':memory:', entities: [WebhookDeliveryEntity], migrations: await loadMigrations(), migrationsRun: true }).initialize();
    rows = db.getRepository(WebhookDeliveryEntity);
  });
  afterAll(() => db.destroy());

  beforeEach(async () => {
    await rows.clear();
    clock = new ManualClock();
    sender = new ScriptedSender();
    config = { webhooks: { urls: [URL_A], maxAttempts: 3, retryBaseMs: BASE_MS, timeoutMs: TIMEOUT_MS, secret: 'x'.repeat(16) } } as unknown as AppConfig;
    worker = dispatcher();
    webhooks = new WebhooksService(rows, worker, config, clock);
  });

  it('the entity needs no migration beyond the outbox one', async () => {
    const pending = await db.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('publish only writes the first attempt, pending and due now: nothing is sent on the caller\'s path', async () => {
    const { eventId, queued } = await webhooks.publish('client_secret.rotated', { realm: 'platform', clientId: 'orders' });
    expect(queued).toBe(1);
    expect(sender.sent).toEqual([]);
    const [row] = await rows.find();
    expect(row).toMatchObject({ eventId, attempt: 1, state: 'pending', nextAttemptAt: clock.ms, delivered: false });
    expect(JSON.parse(row.body!)).toEqual({ id: eventId, type: 'client_secret.rotated', at: clock.now().toISOString(), data: { realm: 'platform', clientId: 'orders' } });
  });

  it('pending → sending → done: a delivered attempt ends the delivery', async () => {
    await webhooks.publish('api_key.expired', { keyId: 'key_1' });
    expect(await worker.drain()).toBe(1);
    expect(sender.sent).toEqual([expect.objectContaining({ url: URL_A, event: 'api_key.expired' })]);
    expect(await states()).toEqual([[1, 'done', 204, true]]);
    expect(await worker.drain()).toBe(0);
  });

  it('drains batch after batch, and at shutdown stops after the batch it is sending (the rest stays for the next worker)', async () => {
    for (let i = 0; i < 45; i += 1) await webhooks.publish('api_key.expired', { keyId: `key_${i}` });
    expect(await worker.drain()).toBe(45);

    for (let i = 0; i < 45; i += 1) await webhooks.publish('api_key.expired', { keyId: `key_later_${i}` });
    sender.hold();
    const draining = worker.drain();
    // The first batch is on its way when the shutdown comes.
    while (sender.sent.length < 45 + 20) await new Promise((resolve) => setImmediate(resolve));
    const stopping = worker.beforeApplicationShutdown();
    sender.release();
    expect(await draining).toBe(20);
    await stopping;
    expect(await rows.countBy({ state: 'pending' })).toBe(25);
  });

  it('failed → the next attempt waits for its backoff time on the clock, not a moment less', async () => {
    sender.results = [failed];
    await webhooks.publish('api_key.expired', { keyId: 'key_1' });
    await worker.drain();
    expect(await states()).toEqual([
      [1, 'done', 500, false],
      [2, 'pending', null, false],
    ]);
    expect((await rows.findOneByOrFail({ attempt: 2 })).nextAttemptAt).toBe(clock.ms + BASE_MS);
    clock.ms += BASE_MS - 1;
    expect(await worker.drain()).toBe(0);
    clock.ms += 1;
    expect(await worker.drain()).toBe(1);
    expect(await states()).toEqual([
      [1, 'done', 500, false],
      [2, 'done', 204, true],
    ]);
  });

  it('gives up after maxAttempts, the backoff doubling between attempts', async () => {
    sender.results = [failed, failed, { status: null, error: 'TimeoutError' }];
    await webhooks.publish('api_key.expired', { keyId: 'key_1' });
    await worker.drain();
    clock.ms += BASE_MS;
    await worker.drain();
    const third = await rows.findOneByOrFail({ attempt: 3 });
    expect(third.nextAttemptAt).toBe(clock.ms + 2 * BASE_MS);
    clock.ms += 2 * BASE_MS;
    await worker.drain();
    clock.ms += 60 * BASE_MS;
    expect(await worker.drain()).toBe(0);
    expect(await states()).toEqual([
      [1, 'done', 500, false],
      [2, 'done', 500, false],
      [3, 'done', null, false],
    ]);
    expect(sender.sent).toHaveLength(3);
  });

  it('two workers draining at once send an attempt once', async () => {
    await webhooks.publish('api_key.expired', { keyId: 'key_1' });
    await webhooks.publish('api_key.expiring', { keyId: 'key_2' });
    const made = await Promise.all([worker.drain(), dispatcher().drain(), dispatcher().drain()]);
    expect(made.reduce((sum, count) => sum + count, 0)).toBe(2);
    expect(sender.sent.map((webhook) => webhook.event).sort()).toEqual(['api_key.expired', 'api_key.expiring']);
  });

  it('a claim held by a live worker is left alone; an expired one is taken over, and the late worker changes nothing', async () => {
    sender.hold();
    await webhooks.publish('api_key.expired', { keyId: 'key_1' });
    const stuck = worker.drain();
    while (sender.sent.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(await states()).toEqual([[1, 'sending', null, false]]);

    const rescuer = dispatcher();
    expect(await rescuer.drain()).toBe(0);
    clock.ms += TIMEOUT_MS + 30_001;
    // The late worker's attempt resumes first and gets the 500; the take-over's gets the 204.
    sender.results = [failed, { status: 204, error: null }];
    const rescued = rescuer.drain();
    while (sender.sent.length < 2) await new Promise((resolve) => setImmediate(resolve));
    sender.release();
    expect(await rescued).toBe(1);
    await stuck;
    // The take-over's answer (204) stands; the late worker's 500 neither overwrote it nor queued a retry.
    expect(await states()).toEqual([[1, 'done', 204, true]]);
    expect(sender.sent).toHaveLength(2);
  });

  it('writing the next attempt twice (a worker died between writing it and closing its own) leaves one row', async () => {
    sender.results = [failed];
    await webhooks.publish('api_key.expired', { keyId: 'key_1' });
    await worker.drain();
    // As if the worker had died before closing attempt 1: it is claimed again once the claim expires.
    await rows.update({ attempt: 1 }, { state: 'sending', claimedBy: 'dead-worker', claimExpiresAt: clock.ms - 1 });
    sender.results = [failed];
    expect(await worker.drain()).toBe(1);
    expect(await rows.countBy({ attempt: 2 })).toBe(1);
  });
});
