import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeAllInstances, ensureBuilt } from '../support/instances.js';
import { keycloakEnv } from '../support/keycloak-env.js';
import { rememberSecret } from '../support/secret-scan.js';
import { Cluster, namedFaultPoints, Prng, sleep } from './cluster.js';
import { FaultInjector, resumeKeycloak } from './faults.js';
import { checkInvariants, removeRunClients, sweep, type Verdict } from './invariants.js';
import { Driver } from './operations.js';

export interface CampaignOptions {
  operations: number;
  faults: number;
  seed: number;
  /** Keysmith processes on the one database (1 or 2). */
  instances: number;
  /** Operations in flight at once. */
  concurrency: number;
  /** How long an instance stays stopped (past its leases). */
  instancePauseMs: number;
  keycloakPauseMs: number;
  /** At least one of the faults is a Keycloak SIGSTOP/SIGCONT. */
  includeKeycloakPause: boolean;
  log: (line: string) => void;
  /** Receives the instances' captured output before their folder goes (for a log scan). */
  logSink?: (text: string) => void;
}

export interface CampaignResult extends Verdict {
  faults: number;
  operations: number;
  line: string;
}

/** Options from the environment (`CHAOS_*`), with the documented defaults. */
export function optionsFromEnv(env: NodeJS.ProcessEnv, log: (line: string) => void): CampaignOptions {
  const int = (name: string, fallback: number) => (env[name] ? Number.parseInt(env[name]!, 10) : fallback);
  return {
    operations: int('CHAOS_OPERATIONS', 500),
    faults: int('CHAOS_FAULTS', 50),
    seed: int('CHAOS_SEED', Date.now() % 1_000_000),
    instances: int('CHAOS_INSTANCES', 2),
    concurrency: int('CHAOS_CONCURRENCY', 4),
    instancePauseMs: int('CHAOS_INSTANCE_PAUSE_MS', 12_000),
    keycloakPauseMs: int('CHAOS_KEYCLOAK_PAUSE_MS', 5_000),
    includeKeycloakPause: true,
    log,
  };
}

/**
 * Environment of every instance of a run: fast retries, short job and account leases (a stopped
 * instance outlives them: CHAOS_INSTANCE_PAUSE_MS is twice the account lease), the scheduler on.
 */
const INSTANCE_ENV = {
  KEYCLOAK_RETRY_BASE_MS: '50',
  KEYCLOAK_TIMEOUT_MS: '5000',
  KEYSMITH_JOB_LEASE_SECONDS: '5',
  KEYSMITH_ACCOUNT_LEASE_SECONDS: '6',
  KEYSMITH_SCHEDULER: 'on',
  // A restart's close that stalls ends the process after this long, with the hooks it waited for
  // in the instance log; the campaign reports each such close.
  KEYSMITH_SHUTDOWN_TIMEOUT_SECONDS: '15',
  LOG_LEVEL: 'info',
};

/**
 * Drives operations against Keysmith child processes while injecting faults, sweeps, checks the
 * invariants and removes the run's Keycloak clients. The run's clientIds share one fresh prefix.
 */
export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const { log } = options;
  ensureBuilt();
  const realm = keycloakEnv().KEYSMITH_MANAGED_REALMS.split(',')[0].trim();
  const prefix = `chaos-${randomBytes(3).toString('hex')}`;
  const prng = new Prng(options.seed);
  const points = namedFaultPoints();
  log(`chaos: seed ${options.seed}, ${options.operations} operations, ${options.faults} faults, ${options.instances} instances, prefix ${prefix}`);
  log(`chaos: named fault points: ${points.length ? points.join(', ') : 'none compiled in (faults at random moments only)'}`);
  const cluster = new Cluster(INSTANCE_ENV, log);
  const driver = new Driver(cluster, new Prng(options.seed ^ 0x5bd1e995), realm, prefix, log);
  const injector = new FaultInjector(cluster, prng, { instancePauseMs: options.instancePauseMs, keycloakPauseMs: options.keycloakPauseMs, points }, log);
  let clean = false;
  try {
    await cluster.start(options.instances);
    rememberSecret(readFileSync(join(cluster.dataDir, 'master.key'), 'utf8').trim());
    let done = 0;
    let next = 0;
    let faultsStarted = 0;
    // Fault k is due once (k + 1) / (faults + 1) of the operations have started; operations wait
    // for faults that are one interval overdue, so faults land among operations, not after them.
    const dueAt = (k: number) => Math.floor(((k + 1) * options.operations) / (options.faults + 1));
    const worker = async () => {
      while (next < options.operations) {
        while (faultsStarted < options.faults && dueAt(faultsStarted + 1) <= next) await sleep(50);
        if (next >= options.operations) break;
        next += 1;
        await driver.runOne();
        done += 1;
        if (done % 50 === 0) log(`  ${done} operations`);
      }
    };
    const faultLoop = async () => {
      for (let k = 0; k < options.faults; k += 1) {
        while (next < dueAt(k)) await sleep(50);
        faultsStarted += 1;
        await injector.inject(injector.pickKind(options.includeKeycloakPause && k === Math.floor(options.faults / 2)));
      }
    };
    await Promise.all([...Array.from({ length: options.concurrency }, worker), faultLoop()]);
    resumeKeycloak();
    log(`chaos: operations ${JSON.stringify(Object.fromEntries(driver.counts))}`);
    log(`chaos: faults ${JSON.stringify(Object.fromEntries(injector.counts))}, restarts after deaths ${cluster.restarts}`);
    await sweep(cluster, log);
    const verdict = await checkInvariants(cluster, [...driver.accounts.values()], realm, prefix);
    for (const finding of verdict.findings) log(`  ${finding}`);
    const faults = [...injector.counts.entries()].filter(([name]) => !name.startsWith('point ')).reduce((sum, [, n]) => sum + n, 0);
    const line = `faults ${faults}, operations ${done}, acknowledged lost ${verdict.lost}, orphans ${verdict.orphans}, stuck ${verdict.stuck}`;
    clean = verdict.lost === 0 && verdict.orphans === 0 && verdict.stuck === 0;
    return { ...verdict, faults, operations: done, line };
  } finally {
    resumeKeycloak();
    await cluster.stopWatching();
    await closeAllInstances();
    const output = cluster.instances.map((instance) => instance.output()).join('\n');
    // Not a broken invariant (the process exits, as after a kill), but a hook that never settled.
    for (const stalled of output.match(/the close did not finish within [^"]*/g) ?? []) process.stderr.write(`chaos: an instance's close stalled: ${stalled}\n`);
    options.logSink?.(output);
    if (clean) cluster.removeData();
    else log(`chaos: database and instance logs kept in ${cluster.dataDir}`);
    await removeRunClients(realm, prefix).catch((error: Error) => log(`chaos: could not remove the run's clients: ${error.message}`));
  }
}
