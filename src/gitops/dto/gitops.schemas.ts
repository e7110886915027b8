import { z } from 'zod';
import { MAX_BUNDLE_DEFINITIONS } from '../definitions/definition.schema.js';

/**
 * A bundle of definitions as `POST /v1/gitops/plan` and `/apply` take it. Definitions are checked
 * one by one against the definition schema, so that each error names its index.
 */
export const planRequestSchema = z.strictObject({
  definitions: z.array(z.unknown()).max(MAX_BUNDLE_DEFINITIONS),
  prune: z.boolean().default(false),
  /** Realms whose Keysmith-managed (gitops) accounts are pruned besides those named in the definitions. */
  realms: z.array(z.string().min(1).max(100)).max(50).default([]),
});
export type PlanRequest = z.infer<typeof planRequestSchema>;

export const applyRequestSchema = planRequestSchema.extend({
  /** A label recorded on every audit event and account, such as a commit sha. */
  source: z.string().min(1).max(200).optional(),
  maxDeletions: z.number().int().min(0).max(10_000).optional(),
  forceDeletions: z.boolean().default(false),
});
export type ApplyRequest = z.infer<typeof applyRequestSchema>;
