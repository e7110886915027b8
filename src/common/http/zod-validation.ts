import { ArgumentMetadata, Injectable, PipeTransform } from '@nestjs/common';
import { z, type ZodType } from 'zod';
import { DomainError, type FieldError } from '../errors/domain-error.js';

/** Turns zod issues into the contract's `errors: [{ field, message }]`. */
export function fieldErrors(error: z.ZodError, prefix?: string): FieldError[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      return { field: [path, ...issue.keys].filter(Boolean).join('.'), message: 'is not a known field' };
    }
    const field = path || '(body)';
    const missing = issue.code === 'invalid_type' && /received undefined$/.test(issue.message);
    return { field, message: missing ? 'is required' : issue.message };
  });
}

export function parseOrThrow<T>(schema: ZodType<T>, value: unknown, prefix?: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw DomainError.validation(fieldErrors(result.error, prefix));
  return result.data;
}

/** Validates a request body as ZodPipe does: a missing body counts as `{}`. */
export function parseBody<T>(schema: ZodType<T>, value: unknown): T {
  return parseOrThrow(schema, value === undefined || value === null ? {} : value);
}

/**
 * Validates a body, query or path parameter against a zod schema. Object schemas should be
 * `z.strictObject` so that unknown fields are refused.
 */
@Injectable()
export class ZodPipe<T> implements PipeTransform<unknown, T> {
  constructor(private readonly schema: ZodType<T>) {}

  transform(value: unknown, metadata: ArgumentMetadata): T {
    if (metadata.type === 'body') return parseBody(this.schema, value);
    return parseOrThrow(this.schema, value, metadata.type === 'param' ? metadata.data : metadata.type);
  }
}

/** The JSON Schema of a zod schema, for the OpenAPI description. */
export function openApiSchema(schema: ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}
