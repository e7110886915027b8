import { z } from 'zod';

/**
 * The plan and apply results of GitOps: the TypeScript types and the OpenAPI schemas both come from
 * these definitions. They hold no secret.
 */

/** One change as plans and apply summaries show it: field by field, roles and scopes by name. */
export const accountChangeSchema = z
  .object({
    field: z.string(),
    action: z.enum(['add', 'remove', 'set']),
    value: z.string().optional(),
    from: z.unknown().optional(),
    to: z.unknown().optional(),
  })
  .meta({ title: 'AccountChange' });

export type AccountChange = z.infer<typeof accountChangeSchema>;

const plannedAction = z.enum(['create', 'update', 'delete', 'noop', 'error']);
export type PlannedAction = z.infer<typeof plannedAction>;

/** What apply would do to one service account. */
export const accountPlanSchema = z
  .object({
    realm: z.string(),
    clientId: z.string(),
    action: plannedAction,
    changes: z.array(accountChangeSchema),
    forbidden: z.array(z.string()).describe('Grants the guard-rail policy forbids: apply refuses this account'),
    adopt: z.boolean().optional().describe('The account exists but was made through the API; apply hands it to GitOps (no Keycloak change)'),
    error: z.object({ code: z.string(), detail: z.string() }).optional(),
    definedAt: z.string().optional().describe('Where the definition is, when it came from files'),
  })
  .meta({ title: 'AccountPlan' });

export type AccountPlan = z.infer<typeof accountPlanSchema>;

export const planSummarySchema = z.object({
  create: z.number().int(),
  update: z.number().int(),
  delete: z.number().int(),
  noop: z.number().int(),
  forbidden: z.number().int(),
  errors: z.number().int(),
});

export type PlanSummary = z.infer<typeof planSummarySchema>;

export const gitopsPlanSchema = z
  .object({
    accounts: z.array(accountPlanSchema),
    notPruned: z.array(z.object({ realm: z.string(), clientId: z.string() })).describe('GitOps-managed accounts absent from the definitions that stay because prune was not asked'),
    summary: planSummarySchema,
    hasChanges: z.boolean().describe('True when apply would change anything'),
  })
  .meta({ title: 'GitopsPlan' });

export type GitopsPlan = z.infer<typeof gitopsPlanSchema>;

export const appliedAccountSchema = z.object({
  realm: z.string(),
  clientId: z.string(),
  action: z.enum(['created', 'updated', 'deleted', 'unchanged']),
  changes: z.array(accountChangeSchema),
  secret: z.string().optional().describe('For a created account: where its client secret can be read (it is never printed)'),
});

export type AppliedAccount = z.infer<typeof appliedAccountSchema>;

export const failedAccountSchema = z.object({ realm: z.string(), clientId: z.string(), action: plannedAction, code: z.string(), detail: z.string() });

export type FailedAccount = z.infer<typeof failedAccountSchema>;

export const applySummarySchema = z
  .object({
    source: z.string().nullable(),
    applied: z.array(appliedAccountSchema),
    failed: z.array(failedAccountSchema),
    refused: z
      .object({ reason: z.string(), deletions: z.number().int(), maxDeletions: z.number().int() })
      .optional()
      .describe('Deletions refused by the cap; nothing at all is applied then'),
    ok: z.boolean(),
  })
  .meta({ title: 'ApplySummary' });

export type ApplySummary = z.infer<typeof applySummarySchema>;
