import { call, type Answer } from './api.js';
import { type Cluster, sleep } from './cluster.js';
import { liveAccounts } from './database.js';
import { clientsWithPrefix, deleteClient, grantsOf, secretAuthenticates, type KeycloakClient } from './keycloak-view.js';
import { sameGrants, type AccountModel } from './model.js';

export interface Verdict {
  lost: number;
  orphans: number;
  stuck: number;
  /** One line per violation, for the log. */
  findings: string[];
}

const NOT_FINAL_STATES = ['provisioning', 'updating', 'deleting'];
const NOT_FINAL_STEPS = ['intent', 'regenerated', 'stored', 'verified'];

/** Runs a job on an instance and waits for that run to finish (or the wait to run out). */
async function runJob(url: string, name: string, log: (line: string) => void): Promise<void> {
  let started: Answer = { status: 'lost', body: {} };
  for (let attempt = 0; attempt < 30; attempt += 1) {
    started = await call(url, 'POST', `/v1/jobs/${name}/run`, {});
    if (started.status !== 409 && started.status !== 'lost') break;
    await sleep(2_000);
  }
  if (started.status !== 202) return log(`  sweep: ${name} did not start (${started.status})`);
  for (let waited = 0; waited < 300; waited += 1) {
    const run = await call(url, 'GET', `/v1/jobs/${name}/runs/${String(started.body.runId)}`);
    if (run.status === 200 && run.body.finishedAt) return log(`  sweep: ${name} ${String(run.body.outcome)}`);
    await sleep(1_000);
  }
  log(`  sweep: ${name} still running after 300 s`);
}

/**
 * The sweep: every instance continued and restarted without fault points, a wait for the leases of
 * the ended processes to run out, then the jobs that finish interrupted work (`recovery` where it
 * exists, `secret-rotation`, and `recovery` again for what rotation left).
 */
export async function sweep(cluster: Cluster, log: (line: string) => void, leaseWaitMs = 8_000): Promise<void> {
  await cluster.stopWatching();
  for (const instance of cluster.instances) {
    instance.cont();
    await cluster.startWithRetry(instance, { KEYSMITH_FAULT_POINTS: '' }, 'SIGTERM');
  }
  // Leases held by the processes that just ended run out first: recovery leaves live leases alone.
  await sleep(leaseWaitMs);
  const url = cluster.instances[0].url;
  const jobs = await call(url, 'GET', '/v1/jobs');
  const known = ((jobs.body.items ?? []) as { name: string }[]).map((job) => job.name);
  for (const name of ['recovery', 'secret-rotation', 'recovery']) {
    if (known.includes(name)) await runJob(url, name, log);
    else log(`  sweep: no ${name} job on this build`);
  }
}

async function checkAccount(url: string, account: AccountModel, present: Map<string, KeycloakClient>, findings: string[]): Promise<number> {
  const client = present.get(account.clientId);
  if (account.exists === 'no') {
    return client ? (findings.push(`deleted ${account.clientId} is still in Keycloak`), 1) : 0;
  }
  if (account.exists !== 'yes') return 0;
  if (!client) return findings.push(`acknowledged ${account.clientId} is missing from Keycloak`), 1;
  const grants = await grantsOf(account.realm, client);
  if (!account.candidates.some((candidate) => sameGrants(candidate, grants))) {
    findings.push(`${account.clientId} holds ${JSON.stringify(grants)}, acknowledged ${JSON.stringify(account.candidates)}`);
    return 1;
  }
  const secret = await call(url, 'GET', `/v1/realms/${account.realm}/service-accounts/${account.clientId}/secret`);
  if (secret.status !== 200) return findings.push(`${account.clientId}: stored secret unreadable (${secret.status})`), 1;
  if (!(await secretAuthenticates(account.realm, account.clientId, String(secret.body.clientSecret)))) {
    return findings.push(`${account.clientId}: the stored secret does not authenticate`), 1;
  }
  return 0;
}

async function checkKeys(url: string, account: AccountModel, findings: string[]): Promise<number> {
  let lost = 0;
  for (const key of account.keys) {
    const mustVerify = key.state === 'active' && account.exists === 'yes';
    const mustFail = key.state === 'revoked' || account.exists === 'no';
    if (!mustVerify && !mustFail) continue;
    const answer = await call(url, 'POST', '/v1/api-keys/verify', { key: key.key });
    const valid = answer.status === 200 && answer.body.valid === true;
    if (mustVerify && !valid) findings.push(`key ${key.id} of ${account.clientId} no longer verifies (${answer.status} ${String(answer.body.code)})`);
    if (mustFail && valid) findings.push(`revoked key ${key.id} of ${account.clientId} still verifies`);
    if (mustVerify !== valid) lost += 1;
  }
  return lost;
}

/** Checks every invariant of issue 11 against Keycloak, Keysmith's API and its database. */
export async function checkInvariants(cluster: Cluster, accounts: AccountModel[], realm: string, prefix: string): Promise<Verdict> {
  const findings: string[] = [];
  const url = cluster.instances[0].url;
  const present = new Map((await clientsWithPrefix(realm, prefix)).map((client) => [client.clientId, client]));
  let lost = 0;
  for (const account of accounts) {
    lost += await checkAccount(url, account, present, findings);
    lost += await checkKeys(url, account, findings);
  }
  const rows = await liveAccounts(cluster.dataDir, prefix);
  const known = new Set(rows.map((row) => row.clientId));
  const orphans = [...present.keys()].filter((clientId) => !known.has(clientId));
  for (const clientId of orphans) findings.push(`orphan: Keycloak client ${clientId} has no Keysmith row`);
  const stuck = rows.filter((row) => NOT_FINAL_STATES.includes(row.state) || (row.rotationStep !== null && NOT_FINAL_STEPS.includes(row.rotationStep)));
  for (const row of stuck) findings.push(`stuck: ${row.clientId} is ${row.state}${row.rotationStep ? `, rotation step ${row.rotationStep}` : ''}`);
  return { lost, orphans: orphans.length, stuck: stuck.length, findings };
}

/** Removes every Keycloak client of the run (its prefix), whatever Keysmith thinks of it. */
export async function removeRunClients(realm: string, prefix: string): Promise<void> {
  for (const client of await clientsWithPrefix(realm, prefix)) await deleteClient(realm, client);
}
