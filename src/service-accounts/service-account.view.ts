import type { RateLimitPolicy, ServiceAccountEntity } from './entities/service-account.entity.js';

/** The public representation of a service account (the contract's). Holds no secret. */
export interface ServiceAccountView {
  realm: string;
  clientId: string;
  keycloakId: string | null;
  description: string;
  owner: string;
  enabled: boolean;
  realmRoles: string[];
  clientRoles: Record<string, string[]>;
  defaultScopes: string[];
  optionalScopes: string[];
  secretRotation: { everyDays: number; graceHours: number; lastRotatedAt: string | null; nextRotationAt: string | null };
  apiKeyPolicy: { defaultTtlDays: number; maxTtlDays: number; rateLimit: RateLimitPolicy | null; tokenExchange: boolean };
  managedBy: string;
  /** The GitOps set that owns the account; null when made through the API or not assigned yet. */
  gitopsSet: string | null;
  source: string | null;
  createdAt: string;
  updatedAt: string;
}

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
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const names = { type: 'array', items: { type: 'string' } };
const dateTime = { type: 'string', format: 'date-time' };

/** The representation above as a JSON Schema, for the OpenAPI description. */
export const SERVICE_ACCOUNT_JSON_SCHEMA = {
  type: 'object',
  properties: {
    realm: { type: 'string', example: 'platform' },
    clientId: { type: 'string', example: 'billing-worker' },
    keycloakId: { type: 'string', nullable: true, description: 'The Keycloak client UUID' },
    description: { type: 'string' },
    owner: { type: 'string', example: 'team-billing' },
    enabled: { type: 'boolean' },
    realmRoles: names,
    clientRoles: { type: 'object', additionalProperties: names, example: { 'orders-api': ['read'] } },
    defaultScopes: names,
    optionalScopes: names,
    secretRotation: {
      type: 'object',
      properties: {
        everyDays: { type: 'integer' },
        graceHours: { type: 'integer' },
        lastRotatedAt: { ...dateTime, nullable: true },
        nextRotationAt: { ...dateTime, nullable: true },
      },
    },
    apiKeyPolicy: {
      type: 'object',
      properties: {
        defaultTtlDays: { type: 'integer' },
        maxTtlDays: { type: 'integer', maximum: 90 },
        rateLimit: { type: 'object', nullable: true, properties: { requests: { type: 'integer' }, perSeconds: { type: 'integer' } } },
        tokenExchange: {
          type: 'boolean',
          description: 'Keys may be traded for a Keycloak access token of this account at POST /v1/token (the token carries the account\'s roles)',
        },
      },
    },
    managedBy: { type: 'string', enum: ['api', 'gitops'] },
    gitopsSet: {
      type: 'string',
      nullable: true,
      example: 'platform-services',
      description: 'The GitOps set whose applies own the account (`keysmith apply --set`); `--prune` deletes only accounts of its own set. Null for accounts made through the API and for GitOps accounts not assigned to a set (never pruned).',
    },
    source: { type: 'string', nullable: true, description: 'Where the last change came from, such as a GitOps commit sha' },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
};

const changeSchema = {
  type: 'object',
  properties: {
    field: { type: 'string', example: 'realmRoles' },
    action: { type: 'string', enum: ['add', 'remove', 'set'] },
    value: { type: 'string', example: 'orders-writer' },
    from: {},
    to: {},
  },
};

/** Helpers for the controller's response documentation. */
export const SERVICE_ACCOUNT_SCHEMAS = {
  account: SERVICE_ACCOUNT_JSON_SCHEMA,
  withSecret: { allOf: [SERVICE_ACCOUNT_JSON_SCHEMA, { type: 'object', properties: { clientSecret: { type: 'string', description: 'Shown this once' } } }] },
  withChanges: { allOf: [SERVICE_ACCOUNT_JSON_SCHEMA, { type: 'object', properties: { changes: { type: 'array', items: changeSchema } } }] },
  withChangesAndSecret: {
    allOf: [SERVICE_ACCOUNT_JSON_SCHEMA, { type: 'object', properties: { changes: { type: 'array', items: changeSchema }, clientSecret: { type: 'string', description: 'Shown this once' } } }],
  },
  page: { type: 'object', properties: { items: { type: 'array', items: SERVICE_ACCOUNT_JSON_SCHEMA }, nextCursor: { type: 'string', nullable: true } } },
  secret: { type: 'object', properties: { clientSecret: { type: 'string' }, rotatedAt: { ...dateTime, nullable: true } } },
  rotated: { type: 'object', properties: { clientSecret: { type: 'string' }, previousSecretValidUntil: dateTime } },
};
