import { z } from 'zod';
import type { KeyStatus } from './dto/api-key.schemas.js';
import type { ApiKeyEntity } from './entities/api-key.entity.js';
import { DEFAULT_KEY_PATTERN } from './strategies/api-key-format.js';

const dateTime = z.iso.datetime({ offset: true });

/** The public representation of an API key (the contract's, plus `useCount`). Never the key or hash. */
export const apiKeyViewSchema = z
  .object({
    id: z.string().meta({ example: 'key_019a7c3e5f2b4d1e8a9c0b' }),
    realm: z.string(),
    clientId: z.string(),
    name: z.string(),
    environment: z.enum(['live', 'test']),
    hint: z.string().meta({ example: 'sk_live_ABCD…wxyz' }),
    scopes: z
      .array(z.string())
      .describe('Effective now: the issued scopes that the account still has (with KEYSMITH_KEY_SCOPE_ENFORCEMENT=report, all issued scopes)'),
    issuedScopes: z.array(z.string()).describe('The scopes the key was issued with'),
    createdAt: dateTime,
    expiresAt: dateTime,
    lastUsedAt: dateTime.nullable().describe('Written in batches: may lag by the usage flush interval'),
    useCount: z.number().int(),
    revokedAt: dateTime.nullable(),
    rotatedFromId: z.string().nullable(),
    status: z.enum(['active', 'expiring', 'expired', 'revoked']),
  })
  .meta({ title: 'ApiKey' });

export type ApiKeyView = z.infer<typeof apiKeyViewSchema>;

/** An issued or rotated key: the representation plus the key itself, shown this once. */
export const issuedApiKeySchema = apiKeyViewSchema
  .extend({ key: z.string().describe(`The key, shown this once. Matches \`${DEFAULT_KEY_PATTERN}\` with the default prefixes.`) })
  .meta({ title: 'IssuedApiKey' });

export const apiKeyPageSchema = z.object({ items: z.array(apiKeyViewSchema), nextCursor: z.string().nullable() }).meta({ title: 'ApiKeyPage' });

const verifyFailureCodes = ['MALFORMED', 'NOT_FOUND', 'EXPIRED', 'REVOKED', 'INSUFFICIENT_SCOPE', 'RATE_LIMITED', 'CLIENT_DISABLED'] as const;

/** The verdict of POST /v1/api-keys/verify: always 200, valid or not. */
export const verifyResultSchema = z
  .discriminatedUnion('valid', [
    z.object({
      valid: z.literal(true),
      keyId: z.string(),
      realm: z.string(),
      clientId: z.string(),
      owner: z.string(),
      scopes: z.array(z.string()),
      expiresAt: dateTime,
    }),
    z.object({
      valid: z.literal(false),
      code: z.enum(verifyFailureCodes),
      retryAfterSeconds: z.number().int().optional().describe('With RATE_LIMITED'),
    }),
  ])
  .meta({ title: 'VerifyResult' });

export type VerifyResult = z.infer<typeof verifyResultSchema>;

/** A live key holding scopes its account no longer has. */
export const scopeExcessItemSchema = z.object({
  id: z.string(),
  realm: z.string(),
  clientId: z.string(),
  owner: z.string(),
  name: z.string(),
  hint: z.string(),
  status: z.string(),
  issuedScopes: z.array(z.string()),
  excessScopes: z.array(z.string()),
  scopes: z.array(z.string()).describe('What the key grants now under the current enforcement mode'),
});

export type ScopeExcessItem = z.infer<typeof scopeExcessItemSchema>;

export const scopeExcessReportSchema = z
  .object({ enforcement: z.enum(['enforce', 'report']), items: z.array(scopeExcessItemSchema) })
  .meta({ title: 'ScopeExcessReport' });

export type ScopeExcessReport = z.infer<typeof scopeExcessReportSchema>;

/** The status by state and time: revocation wins, then expiry, then a pending rotation. */
export function statusOf(row: Pick<ApiKeyEntity, 'revokedAt' | 'expiresAt' | 'rotatedToId'>, now: Date): KeyStatus {
  if (row.revokedAt) return 'revoked';
  if (row.expiresAt <= now) return 'expired';
  return row.rotatedToId ? 'expiring' : 'active';
}

export type ScopeEnforcement = 'enforce' | 'report';

/** Issued scopes the account no longer has (null account: it is gone, so all of them). */
export function scopeExcess(issued: readonly string[], accountScopes: readonly string[] | null): string[] {
  if (accountScopes === null) return [...issued];
  // Every verification asks, and accounts hold few scopes: a scan costs less than a Set made each time.
  if (accountScopes.length <= SCANNED_SCOPES) return issued.filter((scope) => !accountScopes.includes(scope));
  const allowed = new Set(accountScopes);
  return issued.filter((scope) => !allowed.has(scope));
}

/** Up to this many account scopes, scopeExcess scans the list instead of making a Set. */
const SCANNED_SCOPES = 16;

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
