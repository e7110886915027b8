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
  apiKeyPolicy: { defaultTtlDays: number; maxTtlDays: number; rateLimit: RateLimitPolicy | null };
  managedBy: string;
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
    apiKeyPolicy: { defaultTtlDays: row.keyDefaultTtlDays, maxTtlDays: row.keyMaxTtlDays, rateLimit: row.keyRateLimit },
    managedBy: row.managedBy,
    source: row.source,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
