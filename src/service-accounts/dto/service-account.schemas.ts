import { z } from 'zod';
import { freeText } from '../../common/http/text.js';
import { paginationQuery } from '../../common/http/pagination.js';

export const CLIENT_ID_PATTERN = /^[a-z][a-z0-9-]{2,62}$/;

export const clientIdSchema = z
  .string()
  .regex(CLIENT_ID_PATTERN, 'must match ^[a-z][a-z0-9-]{2,62}$: lower-case letters, digits and dashes, starting with a letter, 3 to 63 characters');

const name = z.string().min(1).max(255);
const names = z.array(name).max(200);
const uniqueNames = names.refine((list) => new Set(list).size === list.length, 'must not repeat a name');

export const rateLimitSchema = z.strictObject({
  requests: z.number().int().min(1).max(1_000_000),
  perSeconds: z.number().int().min(1).max(86_400),
});

export const secretRotationSchema = z.strictObject({
  everyDays: z.number().int().min(1).max(365).default(90),
  graceHours: z.number().int().min(0).max(720).default(24),
});

export const apiKeyPolicySchema = z
  .strictObject({
    defaultTtlDays: z.number().int().min(1).max(90).default(90),
    maxTtlDays: z.number().int().min(1).max(90).default(90),
    rateLimit: rateLimitSchema.nullable().default({ requests: 100, perSeconds: 1 }),
    tokenExchange: z
      .boolean()
      .default(false)
      .describe('let keys of this account be traded for a Keycloak access token of the account (POST /v1/token); the token carries the account\'s roles'),
  })
  .refine((policy) => policy.defaultTtlDays <= policy.maxTtlDays, {
    message: 'defaultTtlDays must not exceed maxTtlDays',
    path: ['defaultTtlDays'],
  });

/**
 * The desired state of a service account: a GitOps spec, and the body of PUT (and of POST with the
 * clientId) once `oneKindPerScope` is added (see `serviceAccountBodySchema`).
 */
export const serviceAccountSpecSchema = z.strictObject({
  description: freeText(500).default(''),
  owner: z.string().min(1).max(100).regex(/^[A-Za-z0-9._:@-]+$/, 'may use letters, digits and . _ : @ -'),
  enabled: z.boolean().default(true),
  realmRoles: uniqueNames.default([]),
  clientRoles: z.record(name, uniqueNames).default({}),
  defaultScopes: uniqueNames.default([]),
  optionalScopes: uniqueNames.default([]),
  secretRotation: secretRotationSchema.default({ everyDays: 90, graceHours: 24 }),
  apiKeyPolicy: apiKeyPolicySchema.default({ defaultTtlDays: 90, maxTtlDays: 90, rateLimit: { requests: 100, perSeconds: 1 }, tokenExchange: false }),
});
export type ServiceAccountSpec = z.infer<typeof serviceAccountSpecSchema>;

/**
 * Keycloak links a client scope to a client once, as a default or as an optional scope: a scope in
 * both lists is refused before anything is read or written (PATCH, whose lists are changes, is
 * judged on the result, see SpecChecker.resolveCatalog). A refinement, added where a spec is parsed
 * (zod's `extend` and `omit` do not take refined objects).
 */
export function oneKindPerScope(spec: { defaultScopes: string[]; optionalScopes: string[] }, context: z.RefinementCtx): void {
  spec.optionalScopes.forEach((scope, index) => {
    if (spec.defaultScopes.includes(scope)) context.addIssue({ code: 'custom', path: ['optionalScopes', index], message: `${scope} is also a default scope` });
  });
}

/** The body of PUT. */
export const serviceAccountBodySchema = serviceAccountSpecSchema.superRefine(oneKindPerScope);

export const createServiceAccountSchema = serviceAccountSpecSchema.extend({ clientId: clientIdSchema }).superRefine(oneKindPerScope);
export type CreateServiceAccountInput = z.infer<typeof createServiceAccountSchema>;

const roleChanges = z.strictObject({ add: uniqueNames.default([]), remove: uniqueNames.default([]) });
const clientRoleChanges = z.strictObject({
  add: z.record(name, uniqueNames).default({}),
  remove: z.record(name, uniqueNames).default({}),
});

/** PATCH: change only what is named; roles and scopes by add / remove lists. */
export const patchServiceAccountSchema = z.strictObject({
  description: freeText(500).optional(),
  owner: serviceAccountSpecSchema.shape.owner.optional(),
  enabled: z.boolean().optional(),
  secretRotation: secretRotationSchema.partial().optional(),
  apiKeyPolicy: z
    .strictObject({
      defaultTtlDays: z.number().int().min(1).max(90).optional(),
      maxTtlDays: z.number().int().min(1).max(90).optional(),
      rateLimit: rateLimitSchema.nullable().optional(),
      tokenExchange: z.boolean().optional(),
    })
    .optional(),
  realmRoles: roleChanges.optional(),
  clientRoles: clientRoleChanges.optional(),
  defaultScopes: roleChanges.optional(),
  optionalScopes: roleChanges.optional(),
});
export type PatchServiceAccountInput = z.infer<typeof patchServiceAccountSchema>;

export const listServiceAccountsQuery = z.strictObject({
  owner: z.string().max(100).optional(),
  clientId: z.string().max(63).optional().describe('clientId prefix'),
  ...paginationQuery,
});

export const rotateSecretSchema = z.strictObject({
  graceHours: z.number().int().min(0).max(720).optional(),
});
