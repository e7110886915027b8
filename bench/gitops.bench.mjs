// GitOps: apply of 200 new definitions, then a plan of 1,000 unchanged ones, in-process against the
// real Keycloak, with the number of Keycloak Admin REST calls each made (KeycloakService.callCount).
// Goals (issue 7): no-op plan of 1,000 under 10 s, apply of 200 under 60 s. Everything made is pruned.
import { join } from 'node:path';
import { root, startKeysmith, suffix } from './support.mjs';

const APPLY_COUNT = Number(process.env.BENCH_GITOPS_APPLY ?? 200);
const PLAN_COUNT = Number(process.env.BENCH_GITOPS_PLAN ?? 1000);
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
        apiKeyPolicy: { defaultTtlDays: 90, maxTtlDays: 90, rateLimit: { requests: 100, perSeconds: 1 } },
      },
    },
  };
}

function calls(keycloak, before) {
  const now = { ...keycloak.callCount };
  return { read: now.read - before.read, write: now.write - before.write, total: now.read - before.read + now.write - before.write };
}

export default async function gitopsBench() {
  const { app } = await startKeysmith();
  const { PlanDefinitionsUseCase } = await import(join(root, 'dist/gitops/usecases/plan-definitions.usecase.js'));
  const { ApplyDefinitionsUseCase } = await import(join(root, 'dist/gitops/usecases/apply-definitions.usecase.js'));
  const { KeycloakService } = await import(join(root, 'dist/keycloak/keycloak.service.js'));
  const { systemContext } = await import(join(root, 'dist/common/context/operation-context.js'));
  const planner = app.get(PlanDefinitionsUseCase);
  const applier = app.get(ApplyDefinitionsUseCase);
  const keycloak = app.get(KeycloakService);
  const context = systemContext('cli', 'bench');
  const run = suffix();
  const all = Array.from({ length: Math.max(PLAN_COUNT, APPLY_COUNT) }, (_, i) => definition(`bg-${run}-${i}`, i));

  try {
    let before = { ...keycloak.callCount };
    let started = performance.now();
    const first = await applier.execute(context, all.slice(0, APPLY_COUNT), { prune: false, source: `bench-${run}` });
    const applyMs = performance.now() - started;
    if (!first.ok) throw new Error(`apply failed: ${JSON.stringify(first.failed.slice(0, 3))}`);
    const applyCalls = calls(keycloak, before);
    console.log(`apply ${APPLY_COUNT} new definitions`.padEnd(58), `${(applyMs / 1000).toFixed(2)} s`.padStart(10), `  Keycloak calls ${applyCalls.total} (${applyCalls.read} read, ${applyCalls.write} write)  (goal < 60 s)`);

    if (PLAN_COUNT > APPLY_COUNT) {
      const setup = await applier.execute(context, all, { prune: false, source: `bench-${run}` });
      if (!setup.ok) throw new Error(`set-up apply failed: ${JSON.stringify(setup.failed.slice(0, 3))}`);
    }

    before = { ...keycloak.callCount };
    started = performance.now();
    const plan = await planner.execute(all.slice(0, PLAN_COUNT), { prune: true });
    const planMs = performance.now() - started;
    const planCalls = calls(keycloak, before);
    if (plan.hasChanges) throw new Error(`plan of unchanged definitions shows changes: ${JSON.stringify(plan.summary)}`);
    console.log(`plan ${PLAN_COUNT} unchanged definitions`.padEnd(58), `${(planMs / 1000).toFixed(2)} s`.padStart(10), `  Keycloak calls ${planCalls.total} (${planCalls.read} read, ${planCalls.write} write)  (goal < 10 s)`);
  } finally {
    // Clean up: prune everything this run made (a marker definition keeps the realm in scope).
    const started = performance.now();
    const cleanup = await applier.execute(context, [], { prune: true, realms: [realm], forceDeletions: true });
    console.log(`  (clean-up: pruned ${cleanup.applied.length} accounts in ${((performance.now() - started) / 1000).toFixed(1)} s)`);
    await app.close();
  }
}
