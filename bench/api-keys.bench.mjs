// API-key verification throughput and latency on loopback, autocannon at 50 connections:
// a bare Fastify HMAC + Map route (baseline) against Keysmith's POST /v1/api-keys/verify and
// GET /v1/auth/check with 100k keys stored, cache hit (one key) and miss (cycling through all
// keys, more than the cache holds). Then the process memory with 100k and 1M keys stored.
// Needs `npm run build` and the local Keycloak (scripts/keycloak.sh start).
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = 50;
const KEYS = Number(process.env.BENCH_KEYS ?? 100_000);
const PADDED_TO = Number(process.env.BENCH_PADDED_KEYS ?? 1_000_000);

function keycloakEnv() {
  const file = join(root, '.cache/keycloak/keysmith.env');
  return Object.fromEntries(
    readFileSync(file, 'utf8').split('\n').filter((line) => line.includes('=')).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

function start(script, env) {
  const child = fork(join(here, 'support', script), [], { env, execArgv: ['--expose-gc', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const waiters = [];
  child.on('message', (message) => waiters.shift()?.(message));
  const next = () => new Promise((resolve) => waiters.push(resolve));
  return { child, next, send: (message) => { child.send(message); return next(); } };
}

function run(title, url, requests, headers = {}) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: DURATION, requests, headers }, (error, result) => {
      if (error) reject(error);
      else {
        const bad = result.non2xx + result.errors;
        resolve({ title, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, bad });
      }
    });
  });
}

function cycling(method, path, build) {
  let i = 0;
  return [{ method, path, setupRequest: (request) => build(request, i++) }];
}

const dataDir = mkdtempSync(join(tmpdir(), 'keysmith-bench-'));
const kc = keycloakEnv();
const env = {
  ...process.env,
  ...kc,
  NODE_ENV: 'production',
  KEYSMITH_MASTER_KEY: 'ab'.repeat(32),
  KEYSMITH_DATA_DIR: dataDir,
  DATABASE_URL: `sqlite:${join(dataDir, 'keysmith.sqlite')}`,
  LOG_LEVEL: 'warn',
  // Measure verification alone: no scheduled job (start-up catch-up) runs beside it.
  KEYSMITH_SCHEDULER: 'off',
};

const baseline = start('baseline-server.mjs', env);
const keysmith = start('keysmith-server.mjs', env);
try {
  const [{ port: basePort }, { port }] = await Promise.all([baseline.next(), keysmith.next()]);
  const { keys } = await keysmith.send({ cmd: 'seed', count: KEYS });
  await baseline.send({ cmd: 'keys', keys });
  const memory100k = await keysmith.send({ cmd: 'memory' });
  const base = `http://127.0.0.1:${port}`;
  const auth = { 'x-api-key': keys[0] };
  const json = { 'content-type': 'application/json' };
  const hot = keys[1];

  // JIT warm-up of both servers, not measured.
  await run('warm-up', `http://127.0.0.1:${basePort}/verify`, [{ method: 'POST', path: '/verify', headers: json, body: JSON.stringify({ key: hot }) }]);
  await run('warm-up', base, [{ method: 'POST', path: '/v1/api-keys/verify', headers: { ...json, ...auth }, body: JSON.stringify({ key: hot }) }]);
  await run('warm-up', base, [{ method: 'GET', path: '/v1/auth/check', headers: { 'x-api-key': hot } }]);

  const results = [];
  results.push(await run('baseline HMAC + Map (hit)', `http://127.0.0.1:${basePort}/verify`, [{ method: 'POST', path: '/verify', headers: json, body: JSON.stringify({ key: hot }) }]));
  const baselineRps = results[0].rps;
  results.push(await run('POST /v1/api-keys/verify, cache hit', base, [{ method: 'POST', path: '/v1/api-keys/verify', headers: { ...json, ...auth }, body: JSON.stringify({ key: hot }) }]));
  results.push(
    await run('POST /v1/api-keys/verify, cache miss', base, cycling('POST', '/v1/api-keys/verify', (request, i) => ({ ...request, headers: { ...json, ...auth }, body: JSON.stringify({ key: keys[1 + (i % (keys.length - 1))] }) }))),
  );
  results.push(await run('GET /v1/auth/check, cache hit', base, [{ method: 'GET', path: '/v1/auth/check', headers: { 'x-api-key': hot } }]));
  results.push(
    await run('GET /v1/auth/check, cache miss', base, cycling('GET', '/v1/auth/check', (request, i) => ({ ...request, headers: { 'x-api-key': keys[1 + (i % (keys.length - 1))] } }))),
  );

  console.log(`\nAPI-key verification, ${KEYS.toLocaleString('en')} keys stored, ${CONNECTIONS} connections, ${DURATION} s each, loopback`);
  console.log(`${'scenario'.padEnd(40)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'ratio'.padStart(6)} ${'non-2xx'.padStart(8)}`);
  for (const r of results) {
    console.log(`${r.title.padEnd(40)} ${Math.round(r.rps).toString().padStart(9)} ${String(r.p50).padStart(7)} ${String(r.p99).padStart(7)} ${(r.rps / baselineRps).toFixed(2).padStart(6)} ${String(r.bad).padStart(8)}`);
  }

  await keysmith.send({ cmd: 'pad', count: Math.max(0, PADDED_TO - KEYS) });
  // Touch the hot path again so the memory figure is that of a serving process.
  await run('warm-up after padding', base, [{ method: 'GET', path: '/v1/auth/check', headers: { 'x-api-key': hot } }]);
  const memory1m = await keysmith.send({ cmd: 'memory' });
  const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
  console.log('\nKeysmith process memory (after GC)');
  for (const m of [memory100k, memory1m]) {
    console.log(`${m.rows.toLocaleString('en').padStart(10)} keys stored: rss ${mb(m.rss)}, heap used ${mb(m.heapUsed)}`);
  }
} finally {
  baseline.child.kill();
  keysmith.child.kill();
  rmSync(dataDir, { recursive: true, force: true });
}
