import { z } from 'zod';
import { clientIdSchema, oneKindPerScope, serviceAccountSpecSchema } from '../../service-accounts/index.js';

export const DEFINITION_API_VERSION = 'keysmith/v1';
export const DEFINITION_KIND = 'ServiceAccount';

/** The `spec` of a definition: the service-account spec without `owner`, which lives in metadata. */
export const definitionSpecSchema = serviceAccountSpecSchema.omit({ owner: true });

export const definitionMetadataSchema = z.strictObject({
  name: clientIdSchema.describe('the clientId of the service account'),
  realm: z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/, 'realm names may use letters, digits, . _ -'),
  owner: serviceAccountSpecSchema.shape.owner,
});

/**
 * One GitOps definition (`apiVersion: keysmith/v1`, `kind: ServiceAccount`): the desired state of
 * one service account. Built from the service-accounts schemas so that a definition accepts exactly
 * what PUT accepts.
 */
export const definitionSchema = z.strictObject({
  apiVersion: z.literal(DEFINITION_API_VERSION),
  kind: z.literal(DEFINITION_KIND),
  metadata: definitionMetadataSchema,
  spec: definitionSpecSchema.superRefine(oneKindPerScope).prefault({}),
});

export type Definition = z.output<typeof definitionSchema>;

/** A definition bundle as sent to `POST /v1/gitops/plan` and `/apply`. */
export const MAX_BUNDLE_DEFINITIONS = 5_000;

/** The JSON Schema published as `schemas/keysmith-v1.schema.json`, for editors and CI linters. */
export function definitionJsonSchema(): Record<string, unknown> {
  const json = z.toJSONSchema(definitionSchema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: json.$schema,
    $id: 'https://keysmith.dev/schemas/keysmith-v1.schema.json',
    title: 'Keysmith ServiceAccount definition (keysmith/v1)',
    description: 'A service account Keysmith provisions in Keycloak. Values may use ${ENV_VAR}, substituted before validation.',
    ...Object.fromEntries(Object.entries(json).filter(([key]) => key !== '$schema')),
  };
}
