import { z } from 'zod';
import { grantViolationSchema } from '../common/http/api-docs.js';

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
    origin: z
      .enum(['keycloak'])
      .optional()
      .describe('`keycloak`: undoes a change made in Keycloak directly; shown as `(changed in Keycloak)`, `(removed in Keycloak)` or `(added in Keycloak)`'),
  })
  .meta({ title: 'AccountChange' });

export type AccountChange = z.infer<typeof accountChangeSchema>;

const plannedAction = z.enum(['create', 'update', 'delete', 'noop', 'error']);

/** What apply would do to one service account. */
export const accountPlanSchema = z
  .object({
    realm: z.string(),
    clientId: z.string(),
    action: plannedAction,
    changes: z.array(accountChangeSchema).describe('Field by field, roles and scopes by name'),
    forbidden: z.array(z.string()).describe('Grants the guard-rail policy forbids: apply refuses this account'),
    violations: z.array(grantViolationSchema).describe('Why, with the path from each grant to what makes it forbidden'),
    adopt: z.boolean().optional().describe('The account exists but was made through the API; apply hands it to GitOps (no Keycloak change)'),
    setChange: z
      .object({ from: z.string().nullable(), to: z.string().nullable() })
      .optional()
      .describe("The account joins the apply's set: created, adopted, moved with --adopt-from-set, or assigned with --adopt-unassigned"),
    unassigned: z.boolean().optional().describe('A GitOps account with no set: apply updates it but leaves it unassigned (never pruned)'),
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


export const accountRefSchema = z.object({ realm: z.string(), clientId: z.string() });

export type AccountRef = z.infer<typeof accountRefSchema>;

export const gitopsPlanSchema = z
  .object({
    set: z.string().nullable().describe('The set the bundle owns (--set), or null'),
    accounts: z.array(accountPlanSchema),
    notPruned: z.array(accountRefSchema).describe('Accounts of the same set absent from the definitions that stay because prune was not asked'),
    unassigned: z.array(accountRefSchema).describe('GitOps accounts with no set absent from the definitions: never pruned; assign them with `keysmith sets assign`'),
    summary: planSummarySchema,
    hasChanges: z.boolean().describe('True when apply would change anything'),
    read: z
      .object({
        mode: z
          .enum(['summary', 'full-refresh'])
          .describe(
            "How Keycloak was read. `summary`: one paged client list per realm; only accounts whose summary (spec hash, enabled, description, flags, attributes, scopes) differs from the definition are read in detail. `full-refresh` (`refresh: true`, `--refresh`): every account in detail, which also finds role mappings changed in Keycloak by hand",
          ),
        detailed: z.number().int().describe('How many accounts were read in detail (role mappings, scopes)'),
      })
      .describe('How the plan read Keycloak'),
  })
  .meta({ title: 'GitopsPlan' });

export type GitopsPlan = z.infer<typeof gitopsPlanSchema>;

export const appliedAccountSchema = z.object({
  realm: z.string(),
  clientId: z.string(),
  action: z.enum(['created', 'updated', 'deleted', 'unchanged']),
  changes: z.array(accountChangeSchema),
  secret: z.string().optional().describe('For a created account: where its client secret can be read (it is never printed)'),
  unassigned: z.boolean().optional().describe('A GitOps account with no set, updated but left unassigned'),
});

export type AppliedAccount = z.infer<typeof appliedAccountSchema>;

export const failedAccountSchema = z.object({ realm: z.string(), clientId: z.string(), action: plannedAction, code: z.string(), detail: z.string() });

export type FailedAccount = z.infer<typeof failedAccountSchema>;

export const applySummarySchema = z
  .object({
    set: z.string().nullable(),
    source: z.string().nullable(),
    applied: z.array(appliedAccountSchema),
    failed: z.array(failedAccountSchema),
    refused: z
      .object({ reason: z.string(), deletions: z.number().int(), maxDeletions: z.number().int() })
      .optional()
      .describe('Deletions refused by the cap; nothing at all is applied then'),
    unassigned: z.array(accountRefSchema).describe('GitOps accounts with no set absent from the definitions: never pruned'),
    stopped: z
      .object({ reason: z.string(), notStarted: z.array(accountRefSchema) })
      .optional()
      .describe('The apply was asked to stop (the CLI on SIGINT or SIGTERM): the accounts under way were finished, these were not started'),
    ok: z.boolean(),
  })
  .meta({ title: 'ApplySummary' });

export type ApplySummary = z.infer<typeof applySummarySchema>;

export const assignSetSummarySchema = z
  .object({
    set: z.string(),
    realm: z.string(),
    assigned: z.array(z.string()),
    unchanged: z.array(z.string()).describe('Already in the set'),
    failed: z.array(z.object({ clientId: z.string(), code: z.string(), detail: z.string() })),
    ok: z.boolean(),
  })
  .meta({ title: 'AssignSetSummary' });

export type AssignSetSummary = z.infer<typeof assignSetSummarySchema>;
