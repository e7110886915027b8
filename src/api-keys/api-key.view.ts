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
  scopes: string[];
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

export function toApiKeyView(row: ApiKeyEntity, now: Date): ApiKeyView {
  return {
    id: row.id,
    realm: row.realm,
    clientId: row.clientId,
    name: row.name,
    environment: row.environment,
    hint: row.hint,
    scopes: [...row.scopes],
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
    scopes: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    lastUsedAt: { type: 'string', format: 'date-time', nullable: true, description: 'Written in batches: may lag by the usage flush interval' },
    useCount: { type: 'integer' },
    revokedAt: { type: 'string', format: 'date-time', nullable: true },
    rotatedFromId: { type: 'string', nullable: true },
    status: { type: 'string', enum: ['active', 'expiring', 'expired', 'revoked'] },
  },
};
