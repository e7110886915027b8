import type { KeyStatus } from './dto/api-key.schemas.js';
import type { ApiKeyEntity } from './entities/api-key.entity.js';
import type { KeyEnvironment } from './strategies/api-key-format.js';

/** The public representation of an API key (the contract's, plus `useCount`). Never the key or hash. */
export interface ApiKeyView {
  id: string;
  realm: string;
  clientId: string;
  name: string;
  environment: KeyEnvironment;
  hint: string;
  /** The scopes the key grants now: its issued scopes that its account still has (see `scopesNow`). */
  scopes: string[];
  /** The scopes the key was issued with. */
  issuedScopes: string[];
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  useCount: number;
  revokedAt: string | null;
  rotatedFromId: string | null;
  status: KeyStatus;
}

/** The status by state and time: revocation wins, then expiry, then a pending rotation. */
export function statusOf(row: Pick<ApiKeyEntity, 'revokedAt' | 'expiresAt' | 'rotatedToId'>, now: Date): KeyStatus {
  if (row.revokedAt && row.revokedAt <= now) return 'revoked';
  if (row.expiresAt <= now) return 'expired';
  return row.rotatedToId ? 'expiring' : 'active';
}

export type ScopeEnforcement = 'enforce' | 'report';

/** Issued scopes the account no longer has (null account: it is gone, so all of them). */
export function scopeExcess(issued: readonly string[], accountScopes: readonly string[] | null): string[] {
  const allowed = new Set(accountScopes ?? []);
  return issued.filter((scope) => !allowed.has(scope));
}

/**
 * What a key grants now: its issued scopes cut to its account's current default and optional
 * scopes, unless enforcement is `report`, which keeps the issued ones (the excess is reported).
 */
export function scopesNow(issued: readonly string[], accountScopes: readonly string[] | null, enforcement: ScopeEnforcement): string[] {
  if (enforcement === 'report') return [...issued];
  const excess = new Set(scopeExcess(issued, accountScopes));
  return issued.filter((scope) => !excess.has(scope));
}

export function toApiKeyView(row: ApiKeyEntity, now: Date, scopes: string[] = row.scopes): ApiKeyView {
  return {
    id: row.id,
    realm: row.realm,
    clientId: row.clientId,
    name: row.name,
    environment: row.environment,
    hint: row.hint,
    scopes: [...scopes],
    issuedScopes: [...row.scopes],
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    useCount: row.useCount,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    rotatedFromId: row.rotatedFromId,
    status: statusOf(row, now),
  };
}

/** JSON Schema of the representation, for the OpenAPI description. */
export const API_KEY_JSON_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'string', example: 'key_019a7c3e5f2b4d1e8a9c0b' },
    realm: { type: 'string' },
    clientId: { type: 'string' },
    name: { type: 'string' },
    environment: { type: 'string', enum: ['live', 'test'] },
    hint: { type: 'string', example: 'sk_live_ABCD…wxyz' },
    scopes: {
      type: 'array',
      items: { type: 'string' },
      description: "Effective now: the issued scopes that the account still has (with KEYSMITH_KEY_SCOPE_ENFORCEMENT=report, all issued scopes)",
    },
    issuedScopes: { type: 'array', items: { type: 'string' }, description: 'The scopes the key was issued with' },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    lastUsedAt: { type: 'string', format: 'date-time', nullable: true, description: 'Written in batches: may lag by the usage flush interval' },
    useCount: { type: 'integer' },
    revokedAt: { type: 'string', format: 'date-time', nullable: true },
    rotatedFromId: { type: 'string', nullable: true },
    status: { type: 'string', enum: ['active', 'expiring', 'expired', 'revoked'] },
  },
};
