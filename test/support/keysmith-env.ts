import { SEEDED_CALLERS } from './auth.js';
import { keycloakEnv } from './keycloak-env.js';
import { testDatabaseUrl } from './test-database.js';

/**
 * Variables that point a Keysmith app or process at the seeded Keycloak and at one data directory,
 * whose database is a SQLite file in it or, when DATABASE_URL names a PostgreSQL server, a
 * database of its own on that server (see test-database.ts).
 */
export function keysmithEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  const seeded = keycloakEnv();
  return {
    KEYCLOAK_URL: seeded.KEYCLOAK_URL,
    KEYCLOAK_ADMIN_REALM: seeded.KEYCLOAK_ADMIN_REALM,
    KEYCLOAK_CLIENT_ID: seeded.KEYCLOAK_CLIENT_ID,
    KEYCLOAK_CLIENT_SECRET: seeded.KEYCLOAK_CLIENT_SECRET,
    KEYSMITH_MANAGED_REALMS: seeded.KEYSMITH_MANAGED_REALMS,
    KEYSMITH_JWT_REALM: seeded.KEYSMITH_JWT_REALM,
    // The seeded callers are not Keysmith-managed clients: their tokens pass only when trusted.
    KEYSMITH_TRUSTED_CALLERS: seeded.KEYSMITH_TRUSTED_CALLERS ?? Object.values(SEEDED_CALLERS).join(','),
    KEYSMITH_DATA_DIR: dataDir,
    DATABASE_URL: testDatabaseUrl(dataDir),
    KEYSMITH_SCHEDULER: 'off',
    LOG_LEVEL: 'info',
    ...extra,
  };
}
