// Provisioning: BENCH_PROVISION_COUNT (50) service accounts with 2 realm roles and 2 scopes each,
// created through Keysmith's HTTP API (Keysmith in its own process, as in production), against
// making the same Admin REST calls directly with the admin client, twice: in a fresh process (after
// a few creates a side) and in the steady state (after BENCH_PROVISION_WARM more, once the JIT has
// settled). Each time in alternating rounds, each Keysmith round against the mean of the direct
// rounds before and after it (support/measure.mjs: BENCH_ROUNDS, median and spread); the bench process
// and Keysmith are pinned to different cores where taskset allows. Keysmith's Keycloak calls per
// create are counted from its call metric and must equal the baseline's. Each side's CPU time per
// create is printed too (every thread, /proc/<pid>/stat): the direct side's is what the admin
// client's HTTP calls cost, Keysmith's that plus its own work (HTTP request, checks, SQL, audit).
// Needs `npm run build` and the local Keycloak (scripts/keycloak.sh start).
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import { adminToken, benchKeysmithEnv, keycloakEnv, suffix } from './support.mjs';
import { cpuSeconds, pin, pinning, ROUNDS, spread } from './support/measure.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const COUNT = Number(process.env.BENCH_PROVISION_COUNT ?? 50);
/**
 * Unmeasured creates a side before the steady-state rounds, made LANES at a time. V8's
 * optimizing compiler takes about a thousand creates to settle on Keysmith's path (HTTP in, checks,
 * SQL, the admin client): it compiled in the background for 6.6 ms of CPU a create over creates
 * 6-105, 3.1 ms over 301-400 and 1.0 ms over 1,001-1,100 (`--trace-opt`); the direct side's path is
 * a small part of Keysmith's.
 */
const WARM = Number(process.env.BENCH_PROVISION_WARM ?? 1000);
/** Creates a side before the fresh-process rounds. */
const FRESH_WARM = 5;
/** Requests in flight at once where nothing is measured (the steady-state warm-up and the clean-up). */
const LANES = 4;
const realm = 'platform';
const spec = { owner: 'bench', realmRoles: ['orders-reader', 'reports-viewer'], defaultScopes: ['read:data', 'reports:read'] };

/**
 * The Admin REST calls Keysmith makes per create, in its order: find the name, create (flags,
 * attributes, secret and scopes in the representation), read the service-account user, its default
 * and optional scopes (in parallel) and its role mappings, grant the roles, drop the default roles.
 */
const DIRECT_CALLS_PER_CREATE = 8;

async function direct(kc, byName, ids) {
  const started = performance.now();
  const cpuBefore = cpuSeconds(process.pid);
  for (const clientId of ids) {
    await kc.clients.find({ realm, clientId, search: false });
    const { id } = await kc.clients.create({
      realm, clientId, publicClient: false, serviceAccountsEnabled: true, standardFlowEnabled: false, directAccessGrantsEnabled: false,
      implicitFlowEnabled: false, frontchannelLogout: false, fullScopeAllowed: true, secret: `bench-${clientId}`,
      attributes: { 'keysmith.managed-by': 'bench' }, defaultClientScopes: ['basic', 'roles', 'service_account', ...spec.defaultScopes],
      optionalClientScopes: [],
    });
    const [user] = await Promise.all([
      kc.clients.getServiceAccountUser({ realm, id }),
      kc.clients.listDefaultClientScopes({ realm, id }),
      kc.clients.listOptionalClientScopes({ realm, id }),
    ]);
    await kc.users.listRoleMappings({ realm, id: user.id });
    await kc.users.addRealmRoleMappings({ realm, id: user.id, roles: spec.realmRoles.map((n) => ({ id: byName.get(n).id, name: n })) });
    const dflt = byName.get(`default-roles-${realm}`);
    await kc.users.delRealmRoleMappings({ realm, id: user.id, roles: [{ id: dflt.id, name: dflt.name }] });
  }
  return { ms: performance.now() - started, cpuMs: (cpuSeconds(process.pid) - cpuBefore) * 1000 };
}

async function viaKeysmith(url, headers, ids, pid) {
  const started = performance.now();
  const cpuBefore = cpuSeconds(pid);
  for (const clientId of ids) {
    const res = await fetch(`${url}/v1/realms/${realm}/service-accounts`, { method: 'POST', headers, body: JSON.stringify({ ...spec, clientId }) });
    if (res.status !== 201) throw new Error(`create ${clientId}: ${res.status} ${await res.text()}`);
  }
  return { ms: performance.now() - started, cpuMs: (cpuSeconds(pid) - cpuBefore) * 1000 };
}

/** Runs `side` (one request after another) over `list` in LANES lanes at once. */
function inLanes(side, list) {
  return Promise.all(Array.from({ length: LANES }, (_, lane) => side(list.filter((_, i) => i % LANES === lane))));
}

function startKeysmithProcess(env) {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = fork(join(here, 'support', 'keysmith-server.mjs'), [], { env, execArgv: profile, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  pin(child.pid, 'server');
  const waiters = [];
  child.on('message', (message) => waiters.shift()?.(message));
  const next = () => new Promise((resolve) => waiters.push(resolve));
  return { child, next, send: (message) => { child.send(message); return next(); } };
}

export default async function provisioningBench() {
  const kcEnv = keycloakEnv();
  const dataDir = mkdtempSync(join(tmpdir(), 'keysmith-bench-'));
  const env = { ...process.env, ...benchKeysmithEnv(dataDir) };
  pin(process.pid, 'load');
  const keysmith = startKeysmithProcess(env);
  const kc = new KcAdminClient({ baseUrl: kcEnv.KEYCLOAK_URL, realmName: 'master' });
  const headers = { authorization: '', 'content-type': 'application/json' };
  // Both sides' tokens, taken again before each phase: a run outlasts a token's lifespan.
  const authenticate = async () => {
    await kc.auth({ grantType: 'client_credentials', clientId: kcEnv.KEYCLOAK_CLIENT_ID, clientSecret: kcEnv.KEYCLOAK_CLIENT_SECRET });
    headers.authorization = `Bearer ${await adminToken()}`;
  };
  await authenticate();
  const byName = new Map((await kc.roles.find({ realm })).map((r) => [r.name, r]));
  const { port } = await keysmith.next();
  const url = `http://127.0.0.1:${port}`;
  const run = suffix();
  const made = { direct: [], keysmith: [] };
  const ids = (side, round, n) => {
    const list = Array.from({ length: n }, (_, i) => `bench-${side}-${run}-${round}-${i}`);
    made[side === 'd' ? 'direct' : 'keysmith'].push(...list);
    return list;
  };
  const callsOf = async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return [...text.matchAll(/^keysmith_keycloak_requests_total\{[^}]*\}\s+(\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  };
  /**
   * ROUNDS alternating rounds of COUNT creates a side. Each Keysmith round sits between two direct
   * rounds and is compared with their mean: the realm grows by both sides' clients round by round,
   * and that drift cancels instead of favouring a side.
   */
  const measure = async (phase) => {
    const rounds = [];
    let keysmithCalls = 0;
    let before = await direct(kc, byName, ids('d', `${phase}0`, COUNT));
    for (let round = 0; round < ROUNDS; round += 1) {
      const callsBefore = await callsOf();
      const keysmithRun = await viaKeysmith(url, headers, ids('k', `${phase}${round}`, COUNT), keysmith.child.pid);
      keysmithCalls += (await callsOf()) - callsBefore;
      const after = await direct(kc, byName, ids('d', `${phase}${round + 1}`, COUNT));
      const directMs = (before.ms + after.ms) / 2;
      rounds.push({ directMs, keysmithMs: keysmithRun.ms, ratio: keysmithRun.ms / directMs, directCpuMs: (before.cpuMs + after.cpuMs) / 2, keysmithCpuMs: keysmithRun.cpuMs });
      before = after;
    }
    return { rounds, callsPerCreate: keysmithCalls / (ROUNDS * COUNT) };
  };
  const report = (title, { rounds, callsPerCreate }, goal) => {
    const perAccount = (key) => spread(rounds.map((r) => r[key] / COUNT));
    console.log(`${title.padEnd(46)} ${perAccount('directMs').padStart(20)} ${perAccount('keysmithMs').padStart(20)} ${spread(rounds.map((r) => r.ratio)).padStart(17)}  ${goal}`);
    // NaN without /proc: the CPU figures are then left out.
    const cpu = rounds.every((r) => Number.isFinite(r.directCpuMs) && Number.isFinite(r.keysmithCpuMs))
      ? `; CPU per create (every thread): Keysmith ${perAccount('keysmithCpuMs')} ms, the direct admin client ${perAccount('directCpuMs')} ms`
      : '';
    console.log(`  Keycloak calls per create: Keysmith ${callsPerCreate.toFixed(2)}, baseline ${DIRECT_CALLS_PER_CREATE}${cpu}`);
  };
  try {
    // A fresh process: both sides warmed with a few creates (token, connections, realm catalog,
    // guard-rail graph), as a Keysmith that has served little provisioning runs.
    await direct(kc, byName, ids('d', 'w', FRESH_WARM));
    await viaKeysmith(url, headers, ids('k', 'w', FRESH_WARM), keysmith.child.pid);
    const fresh = await measure('f');
    await authenticate();
    // The steady state: WARM creates more a side, unmeasured, until the JIT has settled.
    await inLanes((list) => direct(kc, byName, list), ids('d', 'warm', WARM));
    await authenticate();
    await inLanes((list) => viaKeysmith(url, headers, list, keysmith.child.pid), ids('k', 'warm', WARM));
    await authenticate();
    const steady = await measure('s');
    console.log(`provisioning (${pinning()}; ${ROUNDS} alternating rounds of ${COUNT} creates a side, each against the mean of the direct rounds around it)`);
    console.log(`${'scenario: create (2 roles, 2 scopes)'.padEnd(46)} ${'direct, ms/account'.padStart(20)} ${'Keysmith, ms/acc.'.padStart(20)} ${'ratio'.padStart(17)}  goal`);
    report(`fresh process (after ${FRESH_WARM} creates a side)`, fresh, '(reading)');
    report(`steady state (after ${FRESH_WARM + ROUNDS * COUNT + WARM} Keysmith creates)`, steady, '<= 1.1');
  } finally {
    // Clean up what the benchmark made; what cannot be deleted is counted, and Keysmith stopped all the same.
    await authenticate().catch(() => undefined);
    let left = 0;
    await inLanes(async (list) => {
      for (const clientId of list) {
        try {
          const [client] = await kc.clients.find({ realm, clientId, search: false });
          if (client) await kc.clients.del({ realm, id: client.id });
        } catch {
          left += 1;
        }
      }
    }, made.direct);
    await inLanes(async (list) => {
      for (const clientId of list) {
        const res = await fetch(`${url}/v1/realms/${realm}/service-accounts/${clientId}`, { method: 'DELETE', headers: { authorization: headers.authorization } }).catch(() => null);
        if (!res || (res.status !== 204 && res.status !== 404)) left += 1;
      }
    }, made.keysmith);
    if (left) console.warn(`  (clean-up: ${left} accounts could not be deleted)`);
    keysmith.child.kill('SIGTERM');
    await new Promise((resolve) => keysmith.child.once('exit', resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
