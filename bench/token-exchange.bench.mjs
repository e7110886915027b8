// Token exchange (POST /v1/token) on loopback, each figure beside a baseline measured in the same run:
// - cache hit: one key traded again and again, against GET /v1/auth/check with the same key on the
//   same server, in alternating rounds, each token run against the mean of the check runs before
//   and after it (median throughput ratio and p99 added); the same for the phantom-token route
//   (GET /v1/auth/exchange, what a gateway calls on every request), also a cache hit;
// - cache miss: every request a key not traded before (so Keysmith verifies it and asks Keycloak),
//   against the same number of client-credentials requests made directly to Keycloak with the
//   account's secret (mean latency ratio), the two alternating in batches of 25, one request at a
//   time by default (BENCH_EXCHANGE_MISS_CONNECTIONS), so the ratio is the latency Keysmith adds.
// Needs `npm run build` and the local Keycloak (scripts/keycloak.sh start).
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { adminToken, benchKeysmithEnv, keycloakEnv, root, suffix } from './support.mjs';
import { alternate, ROUNDS } from './support/measure.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = 50;
const MISS_CONNECTIONS = Number(process.env.BENCH_EXCHANGE_MISS_CONNECTIONS ?? 1);
const MISS_KEYS = Number(process.env.BENCH_EXCHANGE_MISSES ?? 300);
/** Keys traded once each before the misses are measured, so the miss path runs optimized code (as the hit rows do). */
const MISS_WARM = Number(process.env.BENCH_EXCHANGE_MISS_WARM ?? 300);
const REALM = 'platform';
const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const KEY_TYPE = 'urn:keysmith:params:oauth:token-type:api-key';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const BATCH = 25;

function startKeysmith(env) {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = fork(join(root, 'bench', 'support', 'keysmith-server.mjs'), [], { env, execArgv: profile, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve) => child.once('message', (message) => resolve({ child, port: message.port })));
}

/** A bench support server in its own process; `next()` waits for its next IPC message. */
async function startServer(script, env) {
  const child = fork(join(root, 'bench', 'support', script), [], { env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const waiters = [];
  child.on('message', (message) => waiters.shift()?.(message));
  const next = () => new Promise((resolve) => waiters.push(resolve));
  const { port } = await next();
  return { child, port, next };
}

function run(options) {
  return new Promise((resolve, reject) => {
    const length = options.amount ? {} : { duration: DURATION };
    autocannon({ connections: CONNECTIONS, ...length, ...options }, (error, result) => {
      if (error) reject(error);
      else resolve({ rps: result.requests.average, mean: result.latency.mean, p50: result.latency.p50, p99: result.latency.p99, bad: result.non2xx + result.errors, total: result.requests.total });
    });
  });
}

/** `amount` requests, each with the next body from `bodies`: every one a cache miss when the bodies differ. */
function cycle(url, bodies, headers) {
  let i = 0;
  return run({
    url,
    connections: MISS_CONNECTIONS,
    amount: bodies.length,
    requests: [{ method: 'POST', headers, setupRequest: (request) => ({ ...request, body: bodies[i++ % bodies.length] }) }],
  });
}

/** Several measured batches as one: request-weighted mean, worst p99, summed failures. */
function combine(runs) {
  const total = runs.reduce((sum, r) => sum + r.total, 0);
  return {
    rps: runs.reduce((sum, r) => sum + r.rps, 0) / runs.length,
    mean: runs.reduce((sum, r) => sum + r.mean * r.total, 0) / total,
    p99: Math.max(...runs.map((r) => r.p99)),
    // For the table: the worst p99 of the batches.
    bad: runs.reduce((sum, r) => sum + r.bad, 0),
    total,
  };
}

const tokenForm = (key) => new URLSearchParams({ grant_type: GRANT, subject_token: key, subject_token_type: KEY_TYPE }).toString();

async function api(base, token, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

export default async function tokenExchangeBench() {
  const kc = keycloakEnv();
  const dataDir = mkdtempSync(join(tmpdir(), 'keysmith-bench-'));
  const env = { ...process.env, ...benchKeysmithEnv(dataDir, { KEYSMITH_MASTER_KEY: 'cd'.repeat(32) }) };
  const { child, port } = await startKeysmith(env);
  const base = `http://127.0.0.1:${port}`;
  const clientId = `bench-exchange-${suffix()}`;
  const token = await adminToken();
  try {
    const account = await api(base, token, 'POST', `/v1/realms/${REALM}/service-accounts`, {
      clientId,
      owner: 'bench',
      realmRoles: ['orders-reader'],
      defaultScopes: ['read:data'],
      optionalScopes: ['write:data'],
      apiKeyPolicy: { rateLimit: null, tokenExchange: true },
    });
    const issue = (name) => api(base, token, 'POST', `/v1/realms/${REALM}/service-accounts/${clientId}/api-keys`, { name, scopes: ['read:data'] });
    /** `count` new keys, named `prefix-0`, `prefix-1`, ... */
    const issueKeys = async (prefix, count) => {
      const keys = [];
      for (let i = 0; i < count; i += 1) keys.push((await issue(`${prefix}-${i}`)).key);
      return keys;
    };
    const hot = (await issue('hot')).key;
    const cold = await issueKeys('cold', MISS_KEYS);
    const warmKeys = await issueKeys('warm', MISS_WARM);

    // JIT warm-up, not measured.
    await run({ url: `${base}/v1/auth/check`, headers: { 'x-api-key': hot } });
    await run({ url: `${base}/v1/token`, method: 'POST', headers: FORM, body: tokenForm(hot) });
    await run({ url: `${base}/v1/auth/exchange`, headers: { 'x-api-key': hot } });

    // Check and exchange runs alternate, so both see the same load on the machine: every exchange run
    // sits between two check runs and is compared with their mean (drift cancels; see `alternate`).
    const checkRun = () => run({ url: `${base}/v1/auth/check`, headers: { 'x-api-key': hot } });
    const hitRounds = await alternate(checkRun, () => run({ url: `${base}/v1/token`, method: 'POST', headers: FORM, body: tokenForm(hot) }), { warm: false });
    const gatewayRounds = await alternate(checkRun, () => run({ url: `${base}/v1/auth/exchange`, headers: { 'x-api-key': hot } }), { warm: false });
    const check = combine(hitRounds.map((r) => r.base));
    const hit = combine(hitRounds.map((r) => r.sub));
    const gateway = combine(gatewayRounds.map((r) => r.sub));
    // Misses and direct requests alternate in small batches, so both see the same load on the machine;
    // both are warmed first with as many requests, unmeasured.
    const keycloakTokenUrl = `${kc.KEYCLOAK_URL}/realms/${REALM}/protocol/openid-connect/token`;
    const directForm = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: account.clientSecret }).toString();
    if (warmKeys.length) {
      await cycle(keycloakTokenUrl, warmKeys.map(() => directForm), FORM);
      await cycle(`${base}/v1/token`, warmKeys.map(tokenForm), FORM);
    }
    const directRuns = [];
    const missRuns = [];
    for (let start = 0; start < cold.length; start += BATCH) {
      const batch = cold.slice(start, start + BATCH);
      directRuns.push(await cycle(keycloakTokenUrl, batch.map(() => directForm), FORM));
      missRuns.push(await cycle(`${base}/v1/token`, batch.map(tokenForm), FORM));
    }
    const direct = combine(directRuns);
    const miss = combine(missRuns);

    // The floor: a bare Fastify doing only the transport work of such an endpoint (see floor-server.mjs).
    const sample = await (await fetch(`${base}/v1/token`, { method: 'POST', headers: FORM, body: tokenForm(hot) })).json();
    const floor = await startServer('floor-server.mjs', process.env);
    floor.child.send({ cmd: 'setup', token: sample.access_token, tokenUrl: keycloakTokenUrl, clientId, clientSecret: account.clientSecret });
    await floor.next();
    const bare = `http://127.0.0.1:${floor.port}`;
    let floorHitRounds;
    let floorGatewayRounds;
    let floorMissRatio;
    try {
      const bareCheck = () => run({ url: `${bare}/check` });
      floorHitRounds = await alternate(bareCheck, () => run({ url: `${bare}/token`, method: 'POST', headers: FORM, body: tokenForm(hot) }));
      floorGatewayRounds = await alternate(bareCheck, () => run({ url: `${bare}/exchange` }));
      const forwards = [];
      const directs = [];
      for (let start = 0; start < cold.length; start += BATCH) {
        const size = Math.min(BATCH, cold.length - start);
        directs.push(await cycle(keycloakTokenUrl, Array.from({ length: size }, () => directForm), FORM));
        forwards.push(await cycle(`${bare}/forward`, cold.slice(start, start + size).map(tokenForm), FORM));
      }
      floorMissRatio = combine(forwards).mean / combine(directs).mean;
    } finally {
      const exited = new Promise((resolve) => floor.child.once('exit', resolve));
      floor.child.kill();
      await exited;
    }

    const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
    const ratio = (rounds) => median(rounds.map((r) => r.ratio)).toFixed(2);
    const p99Added = (rounds) => median(rounds.map((r) => r.p99Added)).toFixed(2);
    console.log(`\nToken exchange, loopback; cache hit: ${CONNECTIONS} connections, ${DURATION} s; cache miss: ${MISS_KEYS} new keys, ${MISS_CONNECTIONS} connections`);
    console.log(`${'scenario'.padEnd(52)} ${'req/s'.padStart(9)} ${'mean ms'.padStart(8)} ${'p99 ms'.padStart(7)} ${'non-2xx'.padStart(8)}`);
    const row = (title, r) => console.log(`${title.padEnd(52)} ${(r.total < 1000 ? '-' : Math.round(r.rps).toString()).padStart(9)} ${r.mean.toFixed(2).padStart(8)} ${String(r.p99).padStart(7)} ${String(r.bad).padStart(8)}`);
    row('GET /v1/auth/check, cache hit (baseline)', check);
    row('POST /v1/token, cache hit', hit);
    row('GET /v1/auth/exchange (phantom token), cache hit', gateway);
    row('Keycloak client credentials, direct (baseline)', direct);
    row('POST /v1/token, cache miss', miss);
    console.log(`\ncache hit:  throughput ratio ${ratio(hitRounds)} (goal >= 0.8), p99 added ${p99Added(hitRounds)} ms (goal <= 1 ms); medians of ${ROUNDS} alternating rounds`);
    console.log(
      `phantom-token cache hit: throughput ratio ${ratio(gatewayRounds)} (goal >= 0.8), p99 added ${p99Added(gatewayRounds)} ms (goal <= 1 ms); medians of ${ROUNDS} alternating rounds`,
    );
    console.log(`cache miss: mean latency ratio ${(miss.mean / direct.mean).toFixed(2)} (goal <= 1.2)`);
    console.log(
      `floor (bare Fastify, transport only, same run): a form POST answered with a token response against an empty GET with headers, throughput ratio ${ratio(floorHitRounds)}; ` +
        `an empty GET answered with the token in Authorization against one without, throughput ratio ${ratio(floorGatewayRounds)}; ` +
        `one loopback hop in front of Keycloak's token endpoint, mean latency ratio ${floorMissRatio.toFixed(2)}`,
    );
  } finally {
    await fetch(`${base}/v1/realms/${REALM}/service-accounts/${clientId}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill();
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}
