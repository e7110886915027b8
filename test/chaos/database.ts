import sqlite3 from 'sqlite3';

/** Direct SQLite access for the campaign: reading rows after the sweep, and making rotations due. */
export async function withDatabase<T>(file: string, body: (query: (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>) => Promise<T>): Promise<T> {
  const db = await new Promise<sqlite3.Database>((resolve, reject) => {
    const handle = new sqlite3.Database(file, (error) => (error ? reject(error) : resolve(handle)));
  });
  db.configure('busyTimeout', 30_000);
  const query = (sql: string, params: unknown[] = []) =>
    new Promise<Record<string, unknown>[]>((resolve, reject) => db.all(sql, params, (error, rows) => (error ? reject(error) : resolve(rows as Record<string, unknown>[]))));
  try {
    return await body(query);
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}

/**
 * Time passes for these accounts only: their next rotation becomes due, so the `secret-rotation`
 * job rotates them on its next run (the processes run on the real clock).
 */
export async function makeRotationDue(file: string, realm: string, clientIds: string[]): Promise<void> {
  if (clientIds.length === 0) return;
  await withDatabase(file, (query) =>
    query(
      `UPDATE "service_accounts" SET "next_rotation_at" = '2000-01-01 00:00:00.000' WHERE "realm" = ? AND "deleted_at" IS NULL AND "client_id" IN (${clientIds.map(() => '?').join(',')})`,
      [realm, ...clientIds],
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
export async function liveAccounts(file: string, prefix: string): Promise<AccountRow[]> {
  const rows = await withDatabase(file, (query) =>
    query(`SELECT "client_id", "keycloak_id", "state", "secret_rotation_step" FROM "service_accounts" WHERE "deleted_at" IS NULL AND "client_id" LIKE ?`, [`${prefix}%`]),
  );
  return rows.map((row) => ({
    clientId: String(row.client_id),
    keycloakId: (row.keycloak_id as string | null) ?? null,
    state: String(row.state),
    rotationStep: (row.secret_rotation_step as string | null) ?? null,
  }));
}
