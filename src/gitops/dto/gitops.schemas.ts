import { z } from 'zod';
import { labelText } from '../../common/http/text.js';
import { SET_NAME_PATTERN, SET_NAME_RULE } from '../../service-accounts/index.js';
import { MAX_BUNDLE_DEFINITIONS } from '../definitions/definition.schema.js';
import { setOptionErrors } from '../usecases/desired-accounts.js';

const setName = z.string().regex(SET_NAME_PATTERN, SET_NAME_RULE);

/** A provenance label (`source`, `--source`), such as a commit sha. */
export const sourceLabelSchema = labelText(200).min(1);

const bundleFields = {
  definitions: z.array(z.unknown()).max(MAX_BUNDLE_DEFINITIONS),
  /** Delete accounts of `set` that the bundle no longer names. Requires `set`. */
  prune: z.boolean().default(false),
  set: setName
    .optional()
    .describe(
      'The GitOps set the bundle owns, named like a clientId. Accounts it creates or adopts join the set; `prune` deletes only accounts of this set and is refused without it. Without a set, new accounts stay unassigned (never pruned) and accounts of any set are refused.',
    ),
  adoptFromSets: z
    .array(setName)
    .max(20)
    .default([])
    .describe('Other sets whose accounts the bundle may take over when it names them (moving between sets is explicit). Requires `set`.'),
  adoptUnassigned: z
    .boolean()
    .default(false)
    .describe('Put the unassigned GitOps accounts (made before sets existed) that the bundle names into `set`. Requires `set`.'),
  /** Realms whose accounts of the set are pruned besides those named in the definitions. */
  realms: z.array(z.string().min(1).max(100)).max(50).default([]),
};

/** The cross-field rules of sets: prune and adoption only with a named set. */
function checkSetOptions(body: { prune: boolean; set?: string; adoptFromSets: string[]; adoptUnassigned: boolean }, ctx: z.RefinementCtx): void {
  for (const error of setOptionErrors(body)) {
    // Name rules are already reported by the field schemas.
    if (error.message !== SET_NAME_RULE) ctx.addIssue({ code: 'custom', path: [error.field], message: error.message });
  }
}

/**
 * A bundle of definitions as `POST /v1/gitops/plan` and `/apply` take it. Definitions are checked
 * one by one against the definition schema, so that each error names its index.
 */
const refreshField = z
  .boolean()
  .default(false)
  .describe(
    "Read every account's Keycloak state in detail (a full refresh) instead of judging unchanged accounts from the realm's client list; finds role mappings changed in Keycloak by hand (apply puts them back). The plan's `read.mode` says which was used.",
  );

export const planRequestSchema = z
  .strictObject({
    ...bundleFields,
    refresh: refreshField,
  })
  .superRefine(checkSetOptions);
export type PlanRequest = z.infer<typeof planRequestSchema>;

export const applyRequestSchema = z
  .strictObject({
    ...bundleFields,
    /** A provenance label (such as a commit sha) recorded on every audit event and account; it is not the set. */
    source: sourceLabelSchema.optional().describe('A provenance label such as a commit sha, recorded on every audit event and account. Not the set: it never decides what is pruned.'),
    maxDeletions: z.number().int().min(0).max(10_000).optional(),
    forceDeletions: z.boolean().default(false),
    refresh: refreshField,
  })
  .superRefine(checkSetOptions);
export type ApplyRequest = z.infer<typeof applyRequestSchema>;

export const assignSetRequestSchema = z
  .strictObject({
    realm: z.string().min(1).max(100),
    clientIds: z.array(z.string().max(63)).max(500).default([]).describe('The accounts to assign, by clientId'),
    allUnassigned: z.boolean().default(false).describe('Assign every unassigned GitOps account of the realm (the caller\'s owner\'s only, for an owner-confined caller)'),
  });
export type AssignSetRequestBody = z.infer<typeof assignSetRequestSchema>;

export const setParamSchema = setName;
