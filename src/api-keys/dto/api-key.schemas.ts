import { z } from 'zod';
import { labelText } from '../../common/http/text.js';
import { paginationQuery } from '../../common/http/pagination.js';

export const KEY_STATUSES = ['active', 'expiring', 'expired', 'revoked'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

const scope = z.string().min(1).max(255).regex(/^\S+$/, 'must not contain spaces');

export const issueApiKeySchema = z.strictObject({
  name: labelText(100).min(1).describe('What the key is for, such as ci-deployer'),
  scopes: z
    .array(scope)
    .max(100)
    .refine((list) => new Set(list).size === list.length, 'must not repeat a scope')
    .describe("A subset of the service account's default and optional scopes"),
  ttlDays: z.number().int().min(1).max(90).optional().describe("Lifetime in days; defaults to the account's apiKeyPolicy.defaultTtlDays, at most its maxTtlDays"),
  environment: z.enum(['live', 'test']).default('live').describe('Selects the key prefix (sk_live_ / sk_test_)'),
});
export type IssueApiKeyInput = z.infer<typeof issueApiKeySchema>;

export const rotateApiKeySchema = z.strictObject({
  graceHours: z.number().int().min(0).max(720).default(24).describe('How long the old key keeps working; 0 ends it now'),
});

export const listApiKeysQuery = z.strictObject({
  status: z.enum(KEY_STATUSES).optional(),
  ...paginationQuery,
});
export type ListApiKeysQuery = z.infer<typeof listApiKeysQuery>;

export const verifyApiKeySchema = z.strictObject({
  key: z.string().max(512).describe('The key to check'),
  requiredScopes: z.array(scope).max(100).optional().describe('Scopes the key must all hold'),
});

export const keyIdParam = z.string().regex(/^key_[0-9a-f]{22}$/, 'is not an API key id');
