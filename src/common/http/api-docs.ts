import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiQuery, ApiResponse } from '@nestjs/swagger';
import type { ZodObject, ZodType } from 'zod';
import { openApiSchema } from './zod-validation.js';

/** Documents a zod request body in the OpenAPI description. */
export function ApiZodBody(schema: ZodType, description?: string): MethodDecorator {
  return applyDecorators(ApiBody({ schema: openApiSchema(schema), description }));
}

/** Documents each field of a zod query schema as a query parameter. */
export function ApiZodQuery(schema: ZodObject): MethodDecorator {
  const json = openApiSchema(schema) as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return applyDecorators(
    ...Object.entries(json.properties ?? {}).map(([name, property]) =>
      ApiQuery({ name, required: json.required?.includes(name) ?? false, schema: property, description: property.description as string | undefined }),
    ),
  );
}

/** RFC 9457 problem details as an OpenAPI schema, for every documented error response. */
export const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', description: 'Stable UPPER_SNAKE machine code' },
    requestId: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
    forbidden: {
      type: 'array',
      items: { type: 'string' },
      description: 'GRANT_FORBIDDEN: each refused grant, named `realm:<role>`, `client:<client>:<role>` or `scope:<name>`',
    },
    violations: {
      type: 'array',
      description: 'GRANT_FORBIDDEN: why each grant is refused, with the path from the grant to what makes it forbidden',
      items: {
        type: 'object',
        properties: {
          grant: { type: 'string', example: 'realm:ops' },
          path: { type: 'array', items: { type: 'string' }, example: ['realm:ops', 'client:realm-management:manage-users'] },
          reason: {
            type: 'string',
            enum: ['denied', 'keysmith-scope', 'mapper', 'scope-mapping', 'unverifiable'],
            description:
              '`denied`: a deny pattern names a role the grant gives or the scope itself; `keysmith-scope`: one of Keysmith\'s own scopes the caller does not hold; ' +
              '`mapper`: a protocol mapper of the scope not on the allow-list; `scope-mapping`: a role scope mapping giving a forbidden role (refused as defence in depth); ' +
              '`unverifiable`: Keysmith could not read or understand what the grant gives (fail closed)',
          },
          message: { type: 'string' },
        },
        required: ['grant', 'path', 'reason', 'message'],
      },
    },
  },
  required: ['type', 'title', 'status', 'detail', 'code', 'requestId'],
};

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  403:
    'Problem details: INSUFFICIENT_SCOPE (with `required` and `provided`), OWNER_FORBIDDEN, or on routes that grant roles and scopes ' +
    'GRANT_FORBIDDEN with `forbidden` and `violations` (each grant with the path that makes it forbidden)',
  502: 'Problem details: Keycloak failed or refused a call (KEYCLOAK_REJECTED, KEYCLOAK_PERMISSION_MISSING); grants are never passed unjudged',
};

/** Documents the problem+json responses a route can give. */
export function ApiProblems(...statuses: number[]): MethodDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: PROBLEM_DESCRIPTIONS[status] ?? 'Problem details', content: { 'application/problem+json': { schema: problemSchema } } }),
    ),
  );
}

/** Documents a JSON success response by its JSON Schema. */
export function ApiJson(status: number, description: string, schema: Record<string, unknown> = { type: 'object' }): MethodDecorator {
  return applyDecorators(ApiResponse({ status, description, content: { 'application/json': { schema } } }));
}

export { ApiExtraModels };
