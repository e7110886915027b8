import { z } from 'zod';
import { changeSchema } from './services/grant-diff.js';
import type { ServiceAccountEntity, ServiceAccountState } from './entities/service-account.entity.js';
import { effectiveStateOf, keycloakEnabledOf } from './keycloak-observation.js';

const dateTime = z.iso.datetime({ offset: true });
const ACCOUNT_STATES = ['provisioning', 'active', 'updating', 'deleting', 'orphaned'] as const;

/** The state a caller sees: `ready` is `active`. */
function publicState(state: ServiceAccountState): (typeof ACCOUNT_STATES)[number] {
  return state === 'ready' ? 'active' : state === 'deleted' ? 'deleting' : state;
}
const names = z.array(z.string());

/** The public representation of a service account (the contract's). Holds no secret. */
export const serviceAccountViewSchema = z
  .object({
    realm: z.string().meta({ example: 'platform' }),
    clientId: z.string().meta({ example: 'billing-worker' }),
    keycloakId: z.string().nullable().describe('The Keycloak client UUID'),
    description: z.string(),
    owner: z.string().meta({ example: 'team-billing' }),
    enabled: z.boolean(),
    realmRoles: names,
    clientRoles: z.record(z.string(), names).meta({ example: { 'orders-api': ['read'] } }),
    defaultScopes: names,
    optionalScopes: names,
    secretRotation: z.object({
      everyDays: z.number().int(),
      graceHours: z.number().int(),
      lastRotatedAt: dateTime.nullable(),
      nextRotationAt: dateTime.nullable(),
    }),
    apiKeyPolicy: z.object({
      defaultTtlDays: z.number().int(),
      maxTtlDays: z.number().int().max(90),
      rateLimit: z.object({ requests: z.number().int(), perSeconds: z.number().int() }).nullable(),
      tokenExchange: z
        .boolean()
        .describe('Keys may be traded for a Keycloak access token of this account at POST /v1/token (the token carries the account\'s roles)'),
    }),
    managedBy: z.enum(['api', 'gitops']),
    gitopsSet: z
      .string()
      .nullable()
      .meta({ example: 'platform-services' })
      .describe(
        'The GitOps set whose applies own the account (`keysmith apply --set`); `--prune` deletes only accounts of its own set. Null for accounts made through the API and for GitOps accounts not assigned to a set (never pruned).',
      ),
    source: z.string().nullable().describe('Where the last change came from, such as a GitOps commit sha'),
    state: z
      .enum(ACCOUNT_STATES)
      .describe(
        '`active`: Keycloak and Keysmith agree (changes made in Keycloak directly are shown in `keycloak`); `updating` / `deleting`: a change is being applied ' +
          '(finished by recovery if interrupted); `orphaned`: the client was deleted in Keycloak behind Keysmith\'s back: its keys are refused ' +
          '(and revoked unless KEYSMITH_ORPHANED_ACCOUNT_KEYS=keep); delete the account, or create it again under another clientId.',
      ),
    keycloak: z
      .object({
        checkedAt: dateTime.nullable().describe('When Keysmith last found Keycloak differing from the spec; null: no difference seen'),
        enabled: z.boolean().describe('The client is enabled in Keycloak (false when disabled there or deleted)'),
        deleted: z.boolean().describe('The client was deleted in Keycloak (the account is `orphaned`)'),
        missingScopes: names.describe('Default or optional scopes of the account that the client no longer has in Keycloak: its keys lose them'),
        drift: z.array(changeSchema).describe('Everything that differs, as plan shows it (what an apply of the spec would change back)'),
      })
      .describe('Changes made in Keycloak directly, as last seen (within KEYSMITH_KEYCLOAK_SYNC_BOUND_SECONDS, 60 s by default)'),
    effective: z
      .object({
        enabled: z.boolean().describe('Keys of the account pass: enabled here and in Keycloak, and not orphaned'),
        scopes: names.describe('The scopes keys can hold now: default and optional scopes, less those removed in Keycloak'),
      })
      .describe('What the account\'s keys get now'),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ title: 'ServiceAccount' });

export type ServiceAccountView = z.infer<typeof serviceAccountViewSchema>;

export function toServiceAccountView(row: ServiceAccountEntity): ServiceAccountView {
  return {
    realm: row.realm,
    clientId: row.clientId,
    keycloakId: row.keycloakId,
    description: row.description,
    owner: row.owner,
    enabled: row.enabled,
    realmRoles: [...row.realmRoles].sort(),
    clientRoles: Object.fromEntries(Object.entries(row.clientRoles).map(([client, roles]) => [client, [...roles].sort()])),
    defaultScopes: [...row.defaultScopes].sort(),
    optionalScopes: [...row.optionalScopes].sort(),
    secretRotation: {
      everyDays: row.rotationEveryDays,
      graceHours: row.rotationGraceHours,
      lastRotatedAt: row.lastRotatedAt?.toISOString() ?? null,
      nextRotationAt: row.nextRotationAt?.toISOString() ?? null,
    },
    apiKeyPolicy: { defaultTtlDays: row.keyDefaultTtlDays, maxTtlDays: row.keyMaxTtlDays, rateLimit: row.keyRateLimit, tokenExchange: row.keyTokenExchange },
    managedBy: row.managedBy,
    gitopsSet: row.gitopsSet ?? null,
    source: row.source,
    state: publicState(row.state),
    keycloak: {
      checkedAt: row.keycloakObserved?.checkedAt ?? null,
      enabled: keycloakEnabledOf(row),
      deleted: row.state === 'orphaned',
      missingScopes: [...(row.keycloakObserved?.missingScopes ?? [])].sort(),
      drift: row.keycloakObserved?.drift ?? [],
    },
    effective: effectiveStateOf(row),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const clientSecret = z.string().describe('Shown this once');

/** The response schemas of the service-account routes. */
export const SERVICE_ACCOUNT_SCHEMAS = {
  account: serviceAccountViewSchema,
  withSecret: serviceAccountViewSchema.extend({ clientSecret }).meta({ title: 'CreatedServiceAccount' }),
  withChanges: serviceAccountViewSchema.extend({ changes: z.array(changeSchema) }).meta({ title: 'ChangedServiceAccount' }),
  withChangesAndSecret: serviceAccountViewSchema.extend({ changes: z.array(changeSchema), clientSecret }).meta({ title: 'UpsertedServiceAccount' }),
  page: z.object({ items: z.array(serviceAccountViewSchema), nextCursor: z.string().nullable() }).meta({ title: 'ServiceAccountPage' }),
  secret: z.object({ clientSecret: z.string(), rotatedAt: dateTime.nullable() }).meta({ title: 'ClientSecret' }),
  rotated: z.object({ clientSecret: z.string(), previousSecretValidUntil: dateTime }).meta({ title: 'RotatedClientSecret' }),
};
