import { GrantPolicy } from '../../service-accounts/index.js';
import type { DefinitionCheck } from './definition-loader.js';
import { grantCheck } from './grant-check.js';

/**
 * The guard-rail checks for definitions, from the same settings as the server
 * (`KEYSMITH_GRANT_POLICY_FILE`, `KEYSMITH_GRANT_DENY_PATTERNS`) so that validate, plan and the API
 * refuse the same grants. Read straight from the environment: validate runs without the full
 * configuration (no Keycloak secret needed).
 */
export function guardRailChecks(env: Record<string, string | undefined>): DefinitionCheck[] {
  const denyPatterns = (env.KEYSMITH_GRANT_DENY_PATTERNS ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  return [grantCheck(GrantPolicy.load(env.KEYSMITH_GRANT_POLICY_FILE || undefined, denyPatterns))];
}
