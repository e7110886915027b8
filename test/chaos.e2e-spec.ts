import { randomBytes } from 'node:crypto';
import { acknowledged, call } from './chaos/api.js';
import { runCampaign } from './chaos/campaign.js';
import { Cluster } from './chaos/cluster.js';
import { checkInvariants, removeRunClients } from './chaos/invariants.js';
import { createClient, deleteClient, findClient } from './chaos/keycloak-view.js';
import type { AccountModel } from './chaos/model.js';
import { closeAllInstances, ensureBuilt } from './support/instances.js';
import { keycloakEnv } from './support/keycloak-env.js';
import { withTestDatabase } from './support/test-database.js';
import { LogCapture } from './support/log-capture.js';
import { expectNoSecretInLogs, registerLogCapture } from './support/secret-scan.js';

// The short version of `npm run chaos`. It pauses Keycloak (SIGSTOP of its Java process), so run it
// only against a Keycloak of your own (KEYSMITH_SEED_ENV_FILE) or in the full suite.
describe('fault-injection campaign (short)', () => {
  beforeAll(() => ensureBuilt(), 300_000);

  afterAll(async () => {
    await closeAllInstances();
  });

  // The instances' output, scanned at the end for every secret and key the campaign saw.
  const logs = new LogCapture();
  registerLogCapture(logs);

  it('30 operations and 5 faults, one a Keycloak pause: nothing acknowledged is lost, no orphan, nothing stuck', async () => {
    const lines: string[] = [];
    const result = await runCampaign({
      operations: 30,
      faults: 5,
      seed: Number(process.env.CHAOS_SEED ?? 11),
      instances: 2,
      concurrency: 3,
      instancePauseMs: 8_000,
      keycloakPauseMs: 3_000,
      includeKeycloakPause: true,
      log: (line) => lines.push(line),
      logSink: (text) => logs.lines.push(...text.split('\n').filter(Boolean)),
    });
    // The campaign's closing line, for the CI log (the long run prints the same line).
    process.stderr.write(`short chaos campaign: ${result.line}\n`);
    expect(lines.filter((line) => line.startsWith('fault: SIGSTOP Keycloak'))).not.toHaveLength(0);
    expect(result.line).toMatch(/^faults 5, operations 30, acknowledged lost \d+, orphans \d+, stuck \d+$/);
    expect({ lost: result.lost, orphans: result.orphans, stuck: result.stuck, findings: result.findings }).toEqual({ lost: 0, orphans: 0, stuck: 0, findings: [] });
  }, 900_000);

  it('the checks count an account lost behind its back, an orphan client and a row left not final', async () => {
    const realm = keycloakEnv().KEYSMITH_MANAGED_REALMS.split(',')[0].trim();
    const prefix = `chaos-${randomBytes(3).toString('hex')}`;
    const cluster = new Cluster({}, () => undefined);
    await cluster.start(1);
    try {
      const url = cluster.instances[0].url;
      const model = (clientId: string): AccountModel => ({ realm, clientId, origin: 'api', exists: 'yes', candidates: [{ realmRoles: [], clientRoles: {}, defaultScopes: [], optionalScopes: [] }], keys: [] });
      for (const clientId of [`${prefix}-kept`, `${prefix}-gone`, `${prefix}-stuck`]) {
        expect(acknowledged(await call(url, 'POST', `/v1/realms/${realm}/service-accounts`, { clientId, owner: 'chaos' }), 201)).toBe(true);
      }
      await deleteClient(realm, (await findClient(realm, `${prefix}-gone`))!);
      await createClient(realm, `${prefix}-orphan`);
      await withTestDatabase(cluster.dataDir, (sql) => sql.run(`UPDATE "service_accounts" SET "state" = 'updating' WHERE "client_id" = ?`, [`${prefix}-stuck`]));

      const verdict = await checkInvariants(cluster, [model(`${prefix}-kept`), model(`${prefix}-gone`)], realm, prefix);

      expect(verdict).toMatchObject({ lost: 1, orphans: 1, stuck: 1 });
      expect(verdict.findings).toEqual([
        `acknowledged ${prefix}-gone is missing from Keycloak`,
        `orphan: Keycloak client ${prefix}-orphan has no Keysmith row`,
        `stuck: ${prefix}-stuck is updating`,
      ]);
    } finally {
      await cluster.stopWatching();
      await removeRunClients(realm, prefix);
    }
  }, 300_000);

  it('no secret, key or token the campaign saw is in any instance log', () => {
    expectNoSecretInLogs('chaos');
  });
});
