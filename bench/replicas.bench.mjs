// Replicas: three Keysmith processes on one PostgreSQL database and one Redis, on this machine.
//   - forward-auth throughput (GET /v1/auth/check, cache hit) of the three together against one;
//   - the same on one replica for a key with a rate limit (a Redis round trip per check) and without;
//   - revocation propagation: revoke on replica 1, time until replicas 2 and 3 refuse (p50/p99);
//   - provisioning (POST service-accounts) on PostgreSQL against SQLite.
// Needs `npm run build`, the local Keycloak, and installs/starts PostgreSQL (scripts/postgres.sh) and
// Redis (scripts/redis.sh) itself. The machine has 2 cores shared by the load generator and every
// replica: the throughput ratio shows contention here, not what separate hosts would give.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { adminToken, keycloakEnv, root, suffix } from './support.mjs';

const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = 48;
const REVOCATIONS = Number(process.env.BENCH_REVOCATIONS ?? 40);
const ACCOUNTS = Number(process.env.BENCH_PROVISION_ACCOUNTS ?? 15);
const realm = 'platform';
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function startReplica(name, dataDir, env) {
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'dist/main.js')], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME ?? tmpdir(), ...env, PORT: String(port), HOST: '127.0.0.1', KEYSMITH_DATA_DIR: dataDir, KEYSMITH_INSTANCE_NAME: name },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i += 1) {
    if (child.exitCode !== null) throw new Error(`${name} exited during start-up`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { name, url, child };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${name} did not start`);
}

function stop(replica) {
  return new Promise((resolve) => {
    if (replica.child.exitCode !== null) return resolve();
    replica.child.once('exit', resolve);
    replica.child.kill('SIGTERM');
  });
}

function load(url, key, duration = DURATION, connections = CONNECTIONS) {
  return new Promise((resolve, reject) => {
    autocannon({ url: `${url}/v1/auth/check`, connections, duration, headers: { 'x-api-key': key } }, (error, result) =>
      error ? reject(error) : resolve({ rps: result.requests.average, p99: result.latency.p99, bad: result.non2xx + result.errors }),
    );
  });
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

function baseEnv(extra) {
  const kc = keycloakEnv();
  return {
    KEYCLOAK_URL: kc.KEYCLOAK_URL,
    KEYCLOAK_ADMIN_REALM: kc.KEYCLOAK_ADMIN_REALM,
    KEYCLOAK_CLIENT_ID: kc.KEYCLOAK_CLIENT_ID,
    KEYCLOAK_CLIENT_SECRET: kc.KEYCLOAK_CLIENT_SECRET,
    KEYSMITH_MANAGED_REALMS: kc.KEYSMITH_MANAGED_REALMS,
    KEYSMITH_JWT_REALM: kc.KEYSMITH_JWT_REALM,
    KEYSMITH_TRUSTED_CALLERS: kc.KEYSMITH_TRUSTED_CALLERS ?? kc.KEYSMITH_TEST_CLIENT_ID,
    NODE_ENV: 'production',
    KEYSMITH_MASTER_KEY: 'cd'.repeat(32),
    LOG_LEVEL: 'warn',
    KEYSMITH_SCHEDULER: 'off',
    ...extra,
  };
}

class Api {
  constructor(url, token) {
    this.url = url;
    this.token = token;
  }
  async call(method, path, body) {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }
  account(clientId, rateLimit = null) {
    return this.call('POST', `/v1/realms/${realm}/service-accounts`, { clientId, owner: 'bench', defaultScopes: ['read:data'], apiKeyPolicy: { rateLimit } });
  }
  async key(clientId) {
    const res = await this.call('POST', `/v1/realms/${realm}/service-accounts/${clientId}/api-keys`, { name: 'bench', scopes: ['read:data'] });
    if (res.status !== 201) throw new Error(`issuing a key answered ${res.status}`);
    return res.json;
  }
}

async function check(url, key) {
  const res = await fetch(`${url}/v1/auth/check`, { headers: { 'x-api-key': key } });
  await res.arrayBuffer();
  return res.status;
}

async function provision(api, count) {
  const ids = Array.from({ length: count }, (_, i) => `bench-prov-${suffix()}-${i}`);
  const started = performance.now();
  for (const clientId of ids) {
    const res = await api.account(clientId);
    if (res.status !== 201) throw new Error(`provisioning answered ${res.status}`);
  }
  const perAccount = (performance.now() - started) / count;
  return { ids, perAccount };
}

async function propagation(apis, replicas, clientId) {
  const times = [];
  for (let i = 0; i < REVOCATIONS; i += 1) {
    const { key, id } = await apis[0].key(clientId);
    for (const replica of replicas.slice(1)) if ((await check(replica.url, key)) !== 200) throw new Error('a fresh key was refused');
    const revoked = await apis[0].call('DELETE', `/v1/api-keys/${id}`);
    if (revoked.status !== 204) throw new Error(`revoking answered ${revoked.status}`);
    const at = performance.now();
    await Promise.all(
      replicas.slice(1).map(async (replica) => {
        while ((await check(replica.url, key)) === 200) await sleep(1);
        times.push(performance.now() - at);
      }),
    );
  }
  return { p50: percentile(times, 50), p99: percentile(times, 99), max: Math.max(...times), n: times.length };
}

export default async function replicasBench() {
  const redisDir = mkdtempSync(join(tmpdir(), 'keysmith-bench-redis-'));
  const redisEnv = { ...process.env, REDIS_DIR: redisDir };
  execFileSync('bash', [join(root, 'scripts/redis.sh'), 'start'], { env: redisEnv, stdio: ['ignore', 'ignore', 'inherit'] });
  const pgOut = execFileSync('bash', [join(root, 'scripts/postgres.sh'), 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const databaseUrl = /^DATABASE_URL=(.+)$/m.exec(pgOut)[1].trim();
  const pgDir = /^KEYSMITH_POSTGRES_DIR=(.+)$/m.exec(pgOut)?.[1]?.trim();
  const redisUrl = /redis:\/\/[^\s]+/.exec(execFileSync('bash', [join(root, 'scripts/redis.sh'), 'env'], { env: redisEnv, encoding: 'utf8' }))[0];
  const dataDir = mkdtempSync(join(tmpdir(), 'keysmith-bench-replicas-'));
  const sqliteDir = mkdtempSync(join(tmpdir(), 'keysmith-bench-sqlite-'));
  const replicas = [];
  const cleanup = [];
  try {
    const env = baseEnv({ DATABASE_URL: databaseUrl, KEYSMITH_REDIS_URL: redisUrl });
    replicas.push(await startReplica('replica-1', dataDir, env));
    replicas.push(...(await Promise.all([2, 3].map((n) => startReplica(`replica-${n}`, dataDir, env)))));
    const token = await adminToken();
    const apis = replicas.map((replica) => new Api(replica.url, token));
    const clientId = `bench-replicas-${suffix()}`;
    const limited = `bench-limited-${suffix()}`;
    if ((await apis[0].account(clientId)).status !== 201 || (await apis[0].account(limited, { requests: 1_000_000, perSeconds: 1 })).status !== 201) throw new Error('account creation failed');
    cleanup.push(clientId, limited);
    const { key } = await apis[0].key(clientId);
    const { key: limitedKey } = await apis[0].key(limited);

    // Warm-up (JIT and caches), not measured.
    await Promise.all(replicas.map((replica) => load(replica.url, key, 2, 16)));
    const one = await load(replicas[0].url, key);
    const three = await Promise.all(replicas.map((replica) => load(replica.url, key, DURATION, CONNECTIONS / 3)));
    const total = three.reduce((sum, r) => sum + r.rps, 0);
    await load(replicas[0].url, limitedKey, 2, 16);
    const withRedis = await load(replicas[0].url, limitedKey);

    const revocation = await propagation(apis, replicas, clientId);
    const onPostgres = await provision(apis[0], ACCOUNTS);
    cleanup.push(...onPostgres.ids);

    const sqlite = await startReplica('sqlite', sqliteDir, baseEnv({ DATABASE_URL: `sqlite:${join(sqliteDir, 'keysmith.sqlite')}` }));
    replicas.push(sqlite);
    const sqliteApi = new Api(sqlite.url, token);
    const onSqlite = await provision(sqliteApi, ACCOUNTS);
    for (const id of onSqlite.ids) await sqliteApi.call('DELETE', `/v1/realms/${realm}/service-accounts/${id}`);

    const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));
    console.log(`forward-auth, cache hit, one replica                        ${fmt(one.rps).padStart(8)} req/s  p99 ${one.p99} ms  (non-2xx ${one.bad})`);
    console.log(`forward-auth, cache hit, three replicas together            ${fmt(total).padStart(8)} req/s  p99 ${Math.max(...three.map((r) => r.p99))} ms  ratio ${(total / one.rps).toFixed(2)} (2 cores shared by all)`);
    console.log(`forward-auth, one replica, key with a rate limit (Redis)    ${fmt(withRedis.rps).padStart(8)} req/s  p99 ${withRedis.p99} ms  ratio ${(withRedis.rps / one.rps).toFixed(2)} to no limit`);
    console.log(`revocation propagation to replicas 2 and 3 (${revocation.n} samples)    p50 ${fmt(revocation.p50)} ms  p99 ${fmt(revocation.p99)} ms  max ${fmt(revocation.max)} ms`);
    console.log(`provisioning per account, PostgreSQL                        ${fmt(onPostgres.perAccount).padStart(8)} ms   SQLite ${fmt(onSqlite.perAccount)} ms  ratio ${(onPostgres.perAccount / onSqlite.perAccount).toFixed(2)}`);
  } finally {
    const alive = replicas.find((replica) => replica.name !== 'sqlite' && replica.child.exitCode === null);
    if (alive) {
      const api = new Api(alive.url, await adminToken());
      for (const id of cleanup) await api.call('DELETE', `/v1/realms/${realm}/service-accounts/${id}`);
    }
    await Promise.all(replicas.map(stop));
    execFileSync('bash', [join(root, 'scripts/redis.sh'), 'stop'], { env: redisEnv, stdio: ['ignore', 'ignore', 'inherit'] });
    if (pgDir) execFileSync('bash', [join(root, 'scripts/postgres.sh'), 'stop', pgDir], { stdio: ['ignore', 'ignore', 'inherit'] });
    for (const dir of [redisDir, dataDir, sqliteDir]) rmSync(dir, { recursive: true, force: true });
  }
}
