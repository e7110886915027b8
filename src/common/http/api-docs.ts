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
  },
  required: ['type', 'title', 'status', 'detail', 'code', 'requestId'],
};

/** Documents the problem+json responses a route can give. */
export function ApiProblems(...statuses: number[]): MethodDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: 'Problem details', content: { 'application/problem+json': { schema: problemSchema } } }),
    ),
  );
}

/** Documents a JSON success response by its JSON Schema. */
export function ApiJson(status: number, description: string, schema: Record<string, unknown> = { type: 'object' }): MethodDecorator {
  return applyDecorators(ApiResponse({ status, description, content: { 'application/json': { schema } } }));
}

export { ApiExtraModels };
