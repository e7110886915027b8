// GitOps: apply of new definitions and plan of unchanged ones, in-process against the real Keycloak,
// each BENCH_ROUNDS (3) times with the median and spread, the number of Keycloak Admin REST calls,
// and Keycloak's CPU during the applies. Full mode: plan of 10,000 (goal ≤ 30 s), apply of 1,000
// (goal ≤ 60 s). BENCH_QUICK=1: 200 and 50, a sanity check. Everything made is pruned afterwards.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, startKeysmith, suffix } from './support.mjs';
import { cpuSeconds, ROUNDS, median, spread } from './support/measure.mjs';

const QUICK = process.env.BENCH_QUICK === '1';
const APPLY_COUNT = Number(process.env.BENCH_GITOPS_APPLY ?? (QUICK ? 50 : 1000));
const PLAN_COUNT = Number(process.env.BENCH_GITOPS_PLAN ?? (QUICK ? 200 : 10_000));
const CONCURRENCY = process.env.KEYCLOAK_MAX_CONCURRENCY;
const realm = 'platform';

function definition(name, i) {
  return {
    definition: {
      apiVersion: 'keysmith/v1',
      kind: 'ServiceAccount',
      metadata: { name, realm, owner: 'bench-gitops' },
      spec: {
        description: `bench account ${i}`,
        enabled: true,
        realmRoles: i % 2 ? ['orders-reader'] : ['orders-reader', 'reports-viewer'],
        clientRoles: i % 3 ? { 'orders-api': ['read'] } : {},
        defaultScopes: ['read:data'],
        optionalScopes: i % 2 ? ['reports:read'] : [],
        secretRotation: { everyDays: 90, graceHours: 24 },
        apiKeyPolicy: { defaultTtlDays: 90, maxTtlDays: 90, rateLimit: { requests: 100, perSeconds: 1 }, tokenExchange: false },
      },
    },
  };
}

/**
 * Keycloak's JVM, for its CPU time from /proc: the id scripts/keycloak.sh writes once the server is
 * ready (it looks the Java process up, since kc.sh sometimes exec-s Java and sometimes runs it as a
 * child); BENCH_KEYCLOAK_PID for a server started another way.
 */
function keycloakPid() {
  if (process.env.BENCH_KEYCLOAK_PID) return process.env.BENCH_KEYCLOAK_PID;
  const cacheDir = process.env.KEYCLOAK_CACHE_DIR ?? join(root, '.cache/keycloak');
  try {
    const pid = readFileSync(join(cacheDir, 'keycloak.pid'), 'utf8').trim();
    return /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('-Dkc.') ? pid : undefined;
  } catch {
    return undefined;
  }
}

function line(title, seconds, extra, goal) {
  console.log(`${title.padEnd(46)} ${`${spread(seconds)} s`.padStart(24)}  ${extra}${goal ? `  (goal ${goal})` : ''}`);
}

async function timed(keycloak, work) {
  const before = { ...keycloak.callCount };
  const started = performance.now();
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  const calls = keycloak.callCount.read - before.read + keycloak.callCount.write - before.write;
  return { result, seconds, calls };
}

export default async function gitopsBench() {
  const { app } = await startKeysmith(CONCURRENCY ? { KEYCLOAK_MAX_CONCURRENCY: CONCURRENCY } : {});
  const { PlanDefinitionsUseCase } = await import(join(root, 'dist/gitops/usecases/plan-definitions.usecase.js'));
  const { ApplyDefinitionsUseCase } = await import(join(root, 'dist/gitops/usecases/apply-definitions.usecase.js'));
  const { KeycloakService } = await import(join(root, 'dist/keycloak/keycloak.service.js'));
  const { AppConfig } = await import(join(root, 'dist/config/app-config.js'));
  const { systemContext } = await import(join(root, 'dist/common/context/operation-context.js'));
  const planner = app.get(PlanDefinitionsUseCase);
  const applier = app.get(ApplyDefinitionsUseCase);
  const keycloak = app.get(KeycloakService);
  const context = systemContext('cli', 'bench');
  const run = suffix();
  const sets = [];
  const kcPid = keycloakPid();
  console.log(`${QUICK ? 'quick mode' : 'full mode'}: KEYCLOAK_MAX_CONCURRENCY=${app.get(AppConfig).keycloak.maxConcurrency}, ${ROUNDS} rounds, Keycloak pid ${kcPid ?? 'not found'}`);

  try {
    const applies = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const set = `bench-${run}-a${round}`;
      sets.push(set);
      const desired = Array.from({ length: APPLY_COUNT }, (_, i) => definition(`ba-${run}-${round}-${i}`, i));
      const cpuBefore = cpuSeconds(kcPid);
      const done = await timed(keycloak, () => applier.execute(context, desired, { prune: false, set, source: `bench-${run}` }));
      if (!done.result.ok) throw new Error(`apply failed: ${JSON.stringify(done.result.failed.slice(0, 3))}`);
      applies.push({ ...done, keycloakCpu: (cpuSeconds(kcPid) - cpuBefore) / done.seconds });
      await applier.execute(context, [], { prune: true, set, realms: [realm], forceDeletions: true });
    }
    const cpu = applies.map((a) => a.keycloakCpu * 100);
    line(`apply ${APPLY_COUNT} new definitions`, applies.map((a) => a.seconds), `Keycloak calls ${median(applies.map((a) => a.calls))}, Keycloak CPU ${spread(cpu, 0)} % of one core`, '≤ 60 s for 1,000');

    const planSet = `bench-${run}-p`;
    sets.push(planSet);
    const desired = Array.from({ length: PLAN_COUNT }, (_, i) => definition(`bp-${run}-${i}`, i));
    const seeded = await timed(keycloak, () => applier.execute(context, desired, { prune: false, set: planSet, source: `bench-${run}` }));
    if (!seeded.result.ok) throw new Error(`seeding failed: ${JSON.stringify(seeded.result.failed.slice(0, 3))}`);
    console.log(`  (seeded ${PLAN_COUNT} definitions in ${seeded.seconds.toFixed(1)} s)`);
    const plans = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const done = await timed(keycloak, () => planner.execute(desired, { prune: false, set: planSet }));
      if (done.result.hasChanges || done.result.read.detailed > 0) throw new Error(`plan of unchanged definitions: ${JSON.stringify({ ...done.result.summary, read: done.result.read })}`);
      plans.push(done);
    }
    line(`plan ${PLAN_COUNT} unchanged definitions (summary)`, plans.map((p) => p.seconds), `Keycloak calls ${median(plans.map((p) => p.calls))}, 0 detail reads`, '≤ 30 s for 10,000');
    if (QUICK || process.env.BENCH_GITOPS_REFRESH === '1') {
      const full = await timed(keycloak, () => planner.execute(desired, { prune: false, set: planSet, refresh: true }));
      line(`plan ${PLAN_COUNT} unchanged definitions (--refresh)`, [full.seconds], `Keycloak calls ${full.calls}, ${full.result.read.detailed} detail reads (one run)`);
    }
  } finally {
    const started = performance.now();
    let pruned = 0;
    for (const set of sets) pruned += (await applier.execute(context, [], { prune: true, set, realms: [realm], forceDeletions: true })).applied.length;
    console.log(`  (clean-up: pruned ${pruned} accounts in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
    await app.close();
  }
}
