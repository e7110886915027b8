import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The variables written by `scripts/keycloak.sh` when it seeded the local Keycloak. The e2e suites
 * need that server running (`npm test` starts it).
 */
export function keycloakEnv(): Record<string, string> {
  const file = process.env.KEYSMITH_SEED_ENV_FILE ?? join(process.cwd(), '.cache/keycloak/keysmith.env');
  if (!existsSync(file)) {
    throw new Error(`${file} not found: start Keycloak first with scripts/keycloak.sh start (npm test does this)`);
  }
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}
