// Keysmith as built in dist/, in its own process, seeded with API keys straight into SQLite.
// The parent talks to it over IPC: `seed` (real keys, returned) and `pad` (hash-only rows).
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AppModule } from '../../dist/app.module.js';
import { configureApp, createFastifyAdapter } from '../../dist/app.setup.js';
import { ApiKeyGenerationStrategy } from '../../dist/api-keys/strategies/api-key-generation.strategy.js';
import { ApiKeyHashingStrategy } from '../../dist/api-keys/strategies/api-key-hashing.strategy.js';
import { KeyLookup } from '../../dist/api-keys/services/key-lookup.service.js';
import { KeycloakSyncService } from '../../dist/service-accounts/usecases/follow-keycloak/keycloak-sync.service.js';

const app = await NestFactory.create(AppModule.register(), createFastifyAdapter(), { logger: ['error'] });
await configureApp(app);
const db = app.get(DataSource);
const generation = app.get(ApiKeyGenerationStrategy);
const hashing = app.get(ApiKeyHashingStrategy);
const REALM = process.env.BENCH_REALM ?? 'platform';
const CLIENT = 'bench-account';
let seq = 0;

function sqliteTime(date) {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

async function ensureAccount() {
  const now = sqliteTime(new Date());
  await db.query(
    `INSERT OR IGNORE INTO "service_accounts" ("id","realm","client_id","keycloak_id","description","owner","enabled","realm_roles","client_roles",
      "default_scopes","optional_scopes","key_rate_limit","managed_by","state","created_at","updated_at")
     VALUES ('sa_bench', ?, ?, NULL, 'benchmark', 'bench', 1, '[]', '{}', ?, '[]', NULL, 'api', 'ready', ?, ?)`,
    [REALM, CLIENT, JSON.stringify(['api-keys:verify', 'read:data']), now, now],
  );
}

async function insertRows(rows) {
  const now = new Date();
  const created = sqliteTime(now);
  const expires = sqliteTime(new Date(now.getTime() + 90 * 86_400_000));
  for (let i = 0; i < rows.length; i += 400) {
    const chunk = rows.slice(i, i + 400);
    {
      const values = chunk.map(() => '(?,?,?,?,?,?,?,?,?,?,?,?,0)').join(',');
      const params = chunk.flatMap(({ hash, hint, scopes }) => {
        seq += 1;
        return [`key_${seq.toString(16).padStart(22, '0')}`, REALM, CLIENT, 'bench', 'live', hint, hash, hashing.currentVersion, JSON.stringify(scopes), 90, created, expires];
      });
      await db.query(
        `INSERT INTO "api_keys" ("id","realm","client_id","name","environment","hint","key_hash","pepper_version","scopes","ttl_days","created_at","expires_at","use_count") VALUES ${values}`,
        params,
      );
    }
  }
}

process.on('message', async (message) => {
  if (message.cmd === 'seed') {
    await ensureAccount();
    const keys = [];
    const rows = [];
    for (let i = 0; i < message.count; i += 1) {
      const { key, hint } = generation.generate('live');
      keys.push(key);
      rows.push({ hash: hashing.hash(key, hashing.currentVersion), hint, scopes: i === 0 ? ['api-keys:verify', 'read:data'] : ['read:data'] });
    }
    await insertRows(rows);
    process.send({ cmd: 'seeded', keys });
  } else if (message.cmd === 'pad') {
    const rows = Array.from({ length: message.count }, () => ({ hash: randomBytes(32).toString('hex'), hint: 'sk_live_pad…pad', scopes: ['read:data'] }));
    await insertRows(rows);
    process.send({ cmd: 'padded' });
  } else if (message.cmd === 'load-index') {
    // What a start-up does: read every live key into memory (rows seeded straight into SQLite).
    const lookup = app.get(KeyLookup);
    const started = performance.now();
    await lookup.loadAll();
    process.send({ cmd: 'index-loaded', size: lookup.index.size, maxKeys: lookup.index.maxKeys, ms: performance.now() - started });
  } else if (message.cmd === 'memory') {
    globalThis.gc?.();
    const rows = (await db.query('SELECT COUNT(*) AS n FROM "api_keys"'))[0].n;
    process.send({ cmd: 'memory', rows, indexed: app.get(KeyLookup).index.size, ...process.memoryUsage() });
  }
});

await app.listen({ port: 0, host: '127.0.0.1' });
// The benches run without the scheduler (no job runs beside a measurement), but a served Keysmith has
// run its jobs by then: one Keycloak sync first, so that anything a job leaves behind in the process
// is measured too (an AsyncLocalStorage left on once made every promise slower).
await app.get(KeycloakSyncService).syncRealm(REALM, true);
process.send({ cmd: 'ready', port: app.getHttpServer().address().port });

// With BENCH_CPU_PROF, leave through process.exit so that --cpu-prof writes its profile.
if (process.env.BENCH_CPU_PROF) process.on('SIGTERM', () => process.exit(0));
