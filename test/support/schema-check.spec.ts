import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource, type Logger } from 'typeorm';
import { loadMigrations } from '../../src/database/migrations.loader.js';
import { ServiceAccountEntity } from '../../src/service-accounts/entities/service-account.entity.js';
import { WebhookDeliveryEntity } from '../../src/webhooks/webhook-delivery.entity.js';
import { pendingSchemaChanges } from './schema-check.js';

/**
 * Another caller of the app's DataSource finishing a query at the worst moment: right after the
 * schema builder read the tables, when it asks whether TypeORM's metadata table exists (its next
 * query, before it compares). `DataSource.query()` always ends that way, with a `release()` of
 * the one query runner SQLite's driver hands to every caller.
 */
class ConcurrentQueryEnds implements Logger {
  db?: DataSource;
  armed = false;
  fired = 0;

  logQuery(query: string): void {
    if (this.armed && this.db && query.includes(`"name" = 'typeorm_metadata'`)) {
      this.fired += 1;
      void this.db.createQueryRunner().release();
    }
  }
  logQueryError(): void {}
  logQuerySlow(): void {}
  logSchemaBuild(): void {}
  logMigration(): void {}
  log(): void {}
}

describe('pendingSchemaChanges (the entities-match-migrations check of the e2e suites)', () => {
  let dir: string;
  let db: DataSource;
  const logger = new ConcurrentQueryEnds();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keysmith-schema-check-'));
    db = await new DataSource({
      type: 'sqlite',
      database: join(dir, 'keysmith.sqlite'),
      enableWAL: true,
      busyTimeout: 10_000,
      entities: [ServiceAccountEntity, WebhookDeliveryEntity],
      migrations: await loadMigrations(),
      migrationsRun: true,
      logger,
    }).initialize();
    logger.db = db;
  });

  afterAll(async () => {
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    logger.armed = false;
    logger.fired = 0;
  });

  it('on the shared DataSource, a query ending mid-check makes the builder propose tables that exist (the flaky failure)', async () => {
    logger.armed = true;
    const queries = (await db.driver.createSchemaBuilder().log()).upQueries.map((query) => query.query);
    expect(logger.fired).toBeGreaterThan(0);
    expect(queries).toEqual(expect.arrayContaining([expect.stringMatching(/^CREATE TABLE "service_accounts"/), expect.stringMatching(/^CREATE TABLE "webhook_deliveries"/)]));
  });

  it('on a DataSource of its own, the same interference on the app\'s finds nothing pending', async () => {
    logger.armed = true;
    for (let round = 0; round < 5; round += 1) {
      const busy = Promise.all(Array.from({ length: 20 }, () => db.query('SELECT COUNT(*) AS n FROM service_accounts')));
      expect(await pendingSchemaChanges(db)).toEqual([]);
      await busy;
    }
  });

  it('refuses an in-memory database, which a second DataSource cannot open', async () => {
    const memory = await new DataSource({ type: 'sqlite', database: ':memory:', entities: [WebhookDeliveryEntity] }).initialize();
    await expect(pendingSchemaChanges(memory)).rejects.toThrow('needs a database file');
    await memory.destroy();
  });
});
