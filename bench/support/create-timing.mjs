// Where a create's time goes, measured inside one process: Keysmith (as built in dist/, or in
// DIST) on a throw-away SQLite file, its Keycloak calls (global fetch) and its SQL statements
// (TypeORM's SQLite query runner) wrapped, and COUNT creates made one after another over HTTP.
// Over the second half of them (the first half warms the process) it prints per create: the
// wall time, the time with a Keycloak call in flight, the time with only SQL in flight, and the
// time with neither (Keysmith's own work, the HTTP request in and out, the client's side), with
// the counts of calls and statements. With PROF=FILE it writes a CPU profile of that half.
// `node bench/support/create-timing.mjs [COUNT]` after `npm run build`, with the local Keycloak;
// `taskset -c 1` in front runs it on one core, as the provisioning bench runs Keysmith.
import 'reflect-metadata';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminToken, benchKeysmithEnv } from '../support.mjs';

const COUNT = Number(process.argv[2] ?? 300);
const DIST = new URL(`../../${process.env.DIST ?? 'dist'}/`, import.meta.url);
const dataDir = mkdtempSync(join(tmpdir(), 'keysmith-timing-'));
Object.assign(process.env, benchKeysmithEnv(dataDir));

/** Time split by what is in flight: a Keycloak call (whatever else is), only SQL, or neither. */
const inFlight = { keycloak: 0, sql: 0 };
const spent = { keycloak: 0, sql: 0, neither: 0 };
const counts = { keycloak: 0, sql: 0 };
let last = performance.now();
function tick() {
  const now = performance.now();
  spent[inFlight.keycloak ? 'keycloak' : inFlight.sql ? 'sql' : 'neither'] += now - last;
  last = now;
}
async function timed(kind, work) {
  tick();
  inFlight[kind] += 1;
  try {
    return await work();
  } finally {
    tick();
    inFlight[kind] -= 1;
    counts[kind] += 1;
  }
}

const plainFetch = globalThis.fetch;
// The answer's body is read inside the call, so that its arrival counts as Keycloak's time.
globalThis.fetch = (...args) =>
  timed('keycloak', async () => {
    const response = await plainFetch(...args);
    const body = [101, 204, 205, 304].includes(response.status) ? null : await response.arrayBuffer();
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  });

const { NestFactory } = await import('@nestjs/core');
const { DataSource } = await import('typeorm');
const { AppModule } = await import(new URL('app.module.js', DIST).href);
const { configureApp, createFastifyAdapter } = await import(new URL('app.setup.js', DIST).href);
const app = await NestFactory.create(AppModule.register(), createFastifyAdapter(), { logger: ['error'] });
await configureApp(app);
await app.listen({ port: 0, host: '127.0.0.1' });
const runner = app.get(DataSource).createQueryRunner();
const QueryRunner = runner.constructor;
await runner.release();
const query = QueryRunner.prototype.query;
QueryRunner.prototype.query = function (...args) {
  return timed('sql', () => query.apply(this, args));
};

const url = `http://127.0.0.1:${app.getHttpServer().address().port}`;
const headers = { authorization: `Bearer ${await adminToken()}`, 'content-type': 'application/json' };
const spec = { owner: 'bench', realmRoles: ['orders-reader', 'reports-viewer'], defaultScopes: ['read:data', 'reports:read'] };
const session = new Session();
session.connect();
const made = [];
let wall = 0;
let cpu;
const measured = COUNT - Math.floor(COUNT / 2);
try {
  for (let i = 0; i < COUNT; i += 1) {
    if (i === COUNT - measured) {
      Object.assign(spent, { keycloak: 0, sql: 0, neither: 0 });
      Object.assign(counts, { keycloak: 0, sql: 0 });
      cpu = process.cpuUsage();
      if (process.env.PROF) {
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
      }
      tick();
      spent.neither = 0;
    }
    const clientId = `timing-${Date.now()}-${i}`;
    made.push(clientId);
    const started = performance.now();
    const response = await plainFetch(`${url}/v1/realms/platform/service-accounts`, { method: 'POST', headers, body: JSON.stringify({ ...spec, clientId }) });
    await response.text();
    if (response.status !== 201) throw new Error(`create ${clientId}: ${response.status}`);
    if (i >= COUNT - measured) wall += performance.now() - started;
  }
  tick();
  if (process.env.PROF) writeFileSync(process.env.PROF, JSON.stringify((await session.post('Profiler.stop')).profile));
  const used = process.cpuUsage(cpu);
  const each = (ms) => `${(ms / measured).toFixed(2)} ms`;
  console.log(`${measured} creates measured (after ${COUNT - measured}), per create:`);
  console.log(`  wall ${each(wall)}; Keycloak call in flight ${each(spent.keycloak)} (${(counts.keycloak / measured).toFixed(2)} calls),`);
  console.log(`  only SQL in flight ${each(spent.sql)} (${(counts.sql / measured).toFixed(2)} statements), neither ${each(spent.neither)}`);
  console.log(`  CPU of the process (server and client) ${each((used.user + used.system) / 1000)}`);
} finally {
  for (const clientId of made) await plainFetch(`${url}/v1/realms/platform/service-accounts/${clientId}`, { method: 'DELETE', headers }).catch(() => undefined);
  session.disconnect();
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
}
