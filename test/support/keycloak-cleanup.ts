import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { keycloakAdmin } from './keycloak-admin.js';
import { onPostgres, withTestDatabase } from './test-database.js';

export interface MadeAccount {
  id: string;
  realm: string;
  clientId: string;
}

/** The service accounts an app's database holds (read before the app closes). */
export async function accountsMadeBy(app: INestApplicationContext): Promise<MadeAccount[]> {
  const rows = (await app.get(DataSource).query('SELECT "id", "realm", "client_id" FROM "service_accounts"')) as Array<{ id: string; realm: string; client_id: string }>;
  return rows.map((row) => ({ id: row.id, realm: row.realm, clientId: row.client_id }));
}

/**
 * The service accounts in the database of a data directory that Keysmith processes used (read
 * beside them, after they stopped). None when the directory has no database, or no tables yet.
 */
export async function accountsIn(dataDir: string): Promise<MadeAccount[]> {
  if (!onPostgres() && !existsSync(join(dataDir, 'keysmith.sqlite'))) return [];
  try {
    const rows = await withTestDatabase(dataDir, async (sql) => {
      // A database the instances never migrated has no table: nothing to read (and no failed query logged).
      const table =
        sql.dialect === 'postgres'
          ? "SELECT 1 AS found FROM information_schema.tables WHERE table_name = 'service_accounts'"
          : "SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = 'service_accounts'";
      if ((await sql.rows(table)).length === 0) return [];
      return sql.rows<{ id: string; realm: string; client_id: string }>('SELECT "id", "realm", "client_id" FROM "service_accounts"');
    });
    return rows.map((row) => ({ id: row.id, realm: row.realm, clientId: row.client_id }));
  } catch (error) {
    process.stderr.write(`test clean-up: could not read the accounts in ${dataDir}: ${(error as Error).message}\n`);
    return [];
  }
}

/**
 * Deletes the Keycloak clients of `accounts` that still carry their account's id
 * (`keysmith.account-id`), so a suite leaves the shared realms as it found them and repeated runs
 * on one Keycloak do not grow them. A client that is gone, or that another account now owns, is
 * left alone. Failures (a Keycloak a test left paused, say) are reported, not thrown.
 */
export async function removeClientsOf(accounts: readonly MadeAccount[]): Promise<void> {
  if (accounts.length === 0) return;
  try {
    const kc = await keycloakAdmin();
    const queue = [...accounts];
    const worker = async () => {
      for (let account = queue.shift(); account; account = queue.shift()) {
        const [client] = await kc.clients.find({ realm: account.realm, clientId: account.clientId, search: false });
        if (client?.id && client.attributes?.['keysmith.account-id'] === account.id) {
          await kc.clients.del({ realm: account.realm, id: client.id }).catch(() => undefined);
        }
      }
    };
    await withTimeout(Promise.all(Array.from({ length: 4 }, worker)), 60_000);
  } catch (error) {
    process.stderr.write(`test clean-up: could not remove the Keycloak clients of ${accounts.length} accounts: ${(error as Error).message}\n`);
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
