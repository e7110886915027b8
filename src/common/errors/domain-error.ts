import { ErrorCode } from './error-code.js';

export interface FieldError {
  field: string;
  message: string;
}

/**
 * An expected failure with a stable code. Services throw these; ProblemDetailsFilter turns them
 * into RFC 9457 responses. `extensions` become extra members of the problem body, so they must
 * never hold a secret.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'DomainError';
  }

  static validation(errors: FieldError[], detail = 'One or more fields are invalid.'): DomainError {
    return new DomainError(ErrorCode.ValidationFailed, detail, { errors });
  }
}

/**
 * The error's detail on one line, for answers that carry a DomainError as a string (a plan's or an
 * apply's account entry, the CLI): a validation error's detail is generic, so its field errors
 * follow it, as `field: message` pairs.
 */
export function detailOf(error: DomainError): string {
  const errors = error.code === ErrorCode.ValidationFailed ? (error.extensions.errors as FieldError[] | undefined) : undefined;
  if (!errors?.length) return error.detail;
  return `${error.detail} ${errors.map(({ field, message }) => `${field}: ${message}`).join('; ')}`;
}

/**
 * An internal error that knows its public form. The problem filter renders such errors through
 * `toDomainError()`, so features can keep their own error classes without the filter knowing them.
 */
export interface ConvertibleToDomainError {
  toDomainError(): DomainError;
}

export function isConvertibleToDomainError(error: unknown): error is ConvertibleToDomainError {
  return typeof (error as Partial<ConvertibleToDomainError>)?.toDomainError === 'function';
}
