import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { ROTATION_FAULT_POINTS, type RotationFaultPoint } from '../src/service-accounts/usecases/rotate-secret/rotation.fault-points.js';
import { adminToken, authHeaders } from './support/auth.js';
import { clientCredentialsToken, keycloakAdmin, uniqueClientId } from './support/keycloak-admin.js';
import { closeAllInstances, ensureBuilt, startInstance, type KeysmithInstance } from './support/instances.js';
import { withTestDatabase } from './support/test-database.js';

const realm = 'platform';
const base = `/v1/realms/${realm}/service-accounts`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The rotation columns of one account, read straight from the shared database. */
async function rotationRow(dataDir: string, clientId: string): Promise<{ step: string | null; rotationId: string | null }> {
  const [row] = await withTestDatabase(dataDir, (sql) =>
    sql.rows<{ step: string | null; rotationId: string | null }>(
      `SELECT secret_rotation_step AS step, secret_rotation_id AS "rotationId" FROM service_accounts WHERE client_id = ? AND deleted_at IS NULL`,
      [clientId],
    ),
  );
  return row;
}

/** Makes the account due for the secret-rotation job (the child processes run on the real clock). */
async function makeDue(dataDir: string, clientId: string): Promise<void> {
  await withTestDatabase(dataDir, (sql) => sql.run(`UPDATE service_accounts SET next_rotation_at = ? WHERE client_id = ?`, [sql.time(new Date(Date.UTC(2000, 0, 1))), clientId]));
}

/**
 * A Keysmith child process killed (SIGKILL) at every named step of the rotation state machine, on
 * the rotate API and on the secret-rotation job; a new instance on the same database completes
 * the rotation (the `recovery` job), and the stored secret authenticates with a real
 * client-credentials request.
 */
describe('Secret rotation survives a kill at every named step (child processes, real Keycloak)', () => {
  let instance: KeysmithInstance;
  let kc: KcAdminClient;
  let headers: Record<string, string>;
  /** Every client secret the suite saw: none may appear in the instance's log. */
  const seen = new Set<string>();
  const quiet = { KEYSMITH_FAULT_POINTS: '' };

  beforeAll(async () => {
    ensureBuilt();
    instance = await startInstance({
      name: 'rotation-kills',
      env: { KEYSMITH_ACCOUNT_LEASE_SECONDS: '2', KEYSMITH_JOB_LEASE_SECONDS: '5', KEYSMITH_WEBHOOK_URLS: '' },
    });
    kc = await keycloakAdmin();
    headers = authHeaders(await adminToken());
  }, 300_000);

  afterAll(async () => {
    await closeAllInstances();
  });

  const api = async (method: string, url: string, body?: unknown) => {
    const response = await fetch(`${instance.url}${url}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    return { status: response.status, json: (await response.json().catch(() => ({}))) as Record<string, unknown> };
  };

  const createAccount = async (graceHours: number) => {
    const clientId = uniqueClientId('rot-kill');
    const created = await api('POST', base, { clientId, owner: 'team-rot', realmRoles: ['orders-reader'], secretRotation: { everyDays: 30, graceHours } });
    expect(created.status).toBe(201);
    const [client] = await kc.clients.find({ realm, clientId });
    seen.add(created.json.clientSecret as string);
    return { clientId, secret: created.json.clientSecret as string, keycloakId: client.id! };
  };

  /**
   * Until the rotation reaches `step`, starting the `recovery` job (the background sweep, which
   * the scheduler runs every minute and at start-up) until the dead instance's lease has expired.
   */
  const awaitRecovery = async (clientId: string, step: string | null) => {
    const deadline = Date.now() + 60_000;
    for (let attempt = 0; Date.now() < deadline; attempt += 1) {
      const row = await rotationRow(instance.dataDir, clientId);
      if (row.step === step) return row;
      if (attempt % 5 === 0) await api('POST', '/v1/jobs/recovery/run', {});
      await sleep(200);
    }
    throw new Error(`the rotation of ${clientId} did not complete; see ${instance.logFile}`);
  };

  const cases: [string, RotationFaultPoint][] = ROTATION_FAULT_POINTS.flatMap((point) => [
    ['rotate API', point] as [string, RotationFaultPoint],
    ['secret-rotation job', point] as [string, RotationFaultPoint],
  ]);

  it.each(cases)('%s killed at %s: a restart completes the rotation and the stored secret authenticates', async (path, point) => {
    // The previous secret is ended at the last step only when its grace window is 0.
    const graceHours = point === 'rotate.previous-invalidated' ? 0 : 24;
    await instance.restart(quiet);
    headers = authHeaders(await adminToken());
    const account = await createAccount(graceHours);
    await instance.restart({ KEYSMITH_FAULT_POINTS: `${point}=kill` });

    if (path === 'rotate API') {
      await expect(api('POST', `${base}/${account.clientId}/secret/rotate`, { graceHours })).rejects.toThrow();
    } else {
      await makeDue(instance.dataDir, account.clientId);
      // The run starts before the answer is written: a kill at the run's first steps can come
      // first, and the connection then closes without one (the kill itself is checked below).
      const started = await api('POST', '/v1/jobs/secret-rotation/run', {}).catch((error: Error) => error);
      if (started instanceof Error) expect(['UND_ERR_SOCKET', 'ECONNRESET']).toContain((started.cause as { code?: string } | undefined)?.code);
      else expect(started.status).toBe(202);
    }
    for (let i = 0; i < 150 && instance.running; i += 1) await sleep(100);
    expect(instance.running).toBe(false);
    const atCrash = await rotationRow(instance.dataDir, account.clientId);
    // Write-ahead: whatever step the kill hit, the rotation is on record.
    expect(atCrash.rotationId).toEqual(expect.stringMatching(/^rot_/));

    await instance.restart(quiet);
    headers = authHeaders(await adminToken());
    const recovered = await awaitRecovery(account.clientId, graceHours === 0 ? null : 'notified');
    expect(recovered.step).toBe(graceHours === 0 ? null : 'notified');

    const secret = await api('GET', `${base}/${account.clientId}/secret`);
    expect(secret.status).toBe(200);
    const stored = secret.json.clientSecret as string;
    seen.add(stored);
    expect(stored).not.toBe(account.secret);
    expect(stored).toBe((await kc.clients.getClientSecret({ realm, id: account.keycloakId })).value);
    expect((await clientCredentialsToken(realm, account.clientId, stored)).status).toBe(200);
    // The previous secret: valid through its grace window, or ended at once.
    expect((await clientCredentialsToken(realm, account.clientId, account.secret)).status).toBe(graceHours === 0 ? 401 : 200);
    expect((await api('DELETE', `${base}/${account.clientId}`)).status).toBe(204);
  }, 180_000);

  it('logs no client secret, through every kill and restart', () => {
    expect(seen.size).toBeGreaterThanOrEqual(ROTATION_FAULT_POINTS.length * 2);
    const output = instance.output();
    expect(output).toContain('Keysmith listening on');
    expect([...seen].filter((secret) => output.includes(secret))).toEqual([]);
  });
});
