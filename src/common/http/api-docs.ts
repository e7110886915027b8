import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiQuery, ApiResponse, type ApiResponseOptions } from '@nestjs/swagger';
import { z, type ZodObject, type ZodType } from 'zod';
import { ErrorCode } from '../errors/error-code.js';
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

/** The JSON Schema (2020-12, as OpenAPI 3.1 uses) of what a response holds, with its required fields. */
export function responseSchema(schema: ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** Why a grant is refused, with the path from the grant to what makes it forbidden. */
export const grantViolationSchema = z
  .object({
    grant: z.string().meta({ example: 'realm:ops' }),
    path: z.array(z.string()).meta({ example: ['realm:ops', 'client:realm-management:manage-users'] }),
    reason: z
      .enum(['denied', 'keysmith-scope', 'mapper', 'scope-mapping', 'unverifiable'])
      .describe(
        '`denied`: a deny pattern names a role the grant gives or the scope itself; `keysmith-scope`: one of Keysmith\'s own scopes the caller does not hold; ' +
          '`mapper`: a protocol mapper of the scope not on the allow-list; `scope-mapping`: a role scope mapping giving a forbidden role (refused as defence in depth); ' +
          '`unverifiable`: Keysmith could not read or understand what the grant gives (fail closed)',
      ),
    message: z.string(),
  })
  .meta({ title: 'GrantViolation' });

/** RFC 9457 problem details, as ProblemDetailsFilter writes them. Extensions (such as `required`) may follow. */
export const problemSchema = z
  .looseObject({
    type: z.string().describe('URI naming the problem type'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(ErrorCode).describe('Stable UPPER_SNAKE machine code'),
    requestId: z.string().describe('Also in the X-Request-Id header; quote it when reporting a problem'),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional().describe('Each bad field (VALIDATION_FAILED)'),
    forbidden: z
      .array(z.string())
      .optional()
      .describe('GRANT_FORBIDDEN: each refused grant, named `realm:<role>`, `client:<client>:<role>` or `scope:<name>`'),
    violations: z.array(grantViolationSchema).optional().describe('GRANT_FORBIDDEN: why each grant is refused, with the path from the grant to what makes it forbidden'),
  })
  .describe('RFC 9457 problem details');

export const PROBLEM_SCHEMA_NAME = 'Problem';
export const PROBLEM_REF = { $ref: `#/components/schemas/${PROBLEM_SCHEMA_NAME}` };

const PROBLEM_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad request: validation failed, a body that cannot be read, or a credential header that cannot be read',
  401: 'No credential, or a bad, expired or revoked one',
  403:
    'INSUFFICIENT_SCOPE (with `required` and `provided`), OWNER_FORBIDDEN, or on routes that grant roles and scopes ' +
    'GRANT_FORBIDDEN with `forbidden` and `violations` (each grant with the path that makes it forbidden)',
  404: 'Not found, or outside the caller\'s owner boundary',
  409: 'Conflict with the current state',
  413: 'Request body too large',
  414: 'A path parameter is too long (URI too long)',
  415: 'Unsupported media type: send application/json',
  422: 'The request names something unknown or not allowed',
  429: 'Too many requests: retry after the number of seconds in Retry-After',
  500: 'Unexpected error; quote the requestId',
  502: 'Keycloak failed or refused a call (KEYCLOAK_REJECTED, KEYCLOAK_PERMISSION_MISSING); grants are never passed unjudged',
  503: 'Keycloak is unreachable',
};

/** The problem+json response of one status, for route decorators and the document's common responses. */
export function problemResponse(status: number): { description: string; content: Record<string, { schema: Record<string, unknown> }>; headers?: Record<string, unknown> } {
  return {
    description: PROBLEM_DESCRIPTIONS[status] ?? 'Problem details',
    content: { 'application/problem+json': { schema: PROBLEM_REF } },
    ...(status === 429 ? { headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } } } : {}),
  };
}

/** Documents the problem+json responses a route can give besides the common ones every route has. */
export function ApiProblems(...statuses: number[]): MethodDecorator {
  return applyDecorators(...statuses.map((status) => ApiResponse({ status, ...problemResponse(status) } as ApiResponseOptions)));
}

/** A response header as the OpenAPI document declares it. */
export interface ResponseHeader {
  description: string;
  schema: { type: 'string' | 'integer' };
}

/** Documents a JSON success response by the zod schema that also types it, and the headers it carries. */
export function ApiJson(status: number, description: string, schema: ZodType, headers?: Record<string, ResponseHeader>): MethodDecorator {
  return applyDecorators(ApiResponse({ status, description, content: { 'application/json': { schema: responseSchema(schema) } }, ...(headers ? { headers } : {}) }));
}

/** Documents a success without a body (204). */
export function ApiNoContent(description: string): MethodDecorator {
  return applyDecorators(ApiResponse({ status: 204, description }));
}

export { ApiExtraModels };
