import { withTestDatabase } from '../support/test-database.js';

/**
 * Time passes for these accounts only: their next rotation becomes due, so the `secret-rotation`
 * job rotates them on its next run (the processes run on the real clock). The database is the
 * cluster's data directory's: a SQLite file, or its PostgreSQL database.
 */
export async function makeRotationDue(dataDir: string, realm: string, clientIds: string[]): Promise<void> {
  if (clientIds.length === 0) return;
  await withTestDatabase(dataDir, (sql) =>
    sql.run(
      `UPDATE "service_accounts" SET "next_rotation_at" = ? WHERE "realm" = ? AND "deleted_at" IS NULL AND "client_id" IN (${clientIds.map(() => '?').join(',')})`,
      [sql.time(new Date(Date.UTC(2000, 0, 1))), realm, ...clientIds],
    ),
  );
}

export interface AccountRow {
  clientId: string;
  keycloakId: string | null;
  state: string;
  rotationStep: string | null;
}

/** Live rows (not deleted) whose clientId starts with the prefix. */
export async function liveAccounts(dataDir: string, prefix: string): Promise<AccountRow[]> {
  const rows = await withTestDatabase(dataDir, (sql) =>
    sql.rows<Record<string, unknown>>(
      `SELECT "client_id", "keycloak_id", "state", "secret_rotation_step" FROM "service_accounts" WHERE "deleted_at" IS NULL AND "client_id" LIKE ?`,
      [`${prefix}%`],
    ),
  );
  return rows.map((row) => ({
    clientId: String(row.client_id),
    keycloakId: (row.keycloak_id as string | null) ?? null,
    state: String(row.state),
    rotationStep: (row.secret_rotation_step as string | null) ?? null,
  }));
}
