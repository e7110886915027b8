import { DomainError } from '../common/errors/domain-error.js';
import { ErrorCode } from '../common/errors/error-code.js';

/** Keycloak answered with an HTTP error; kept internal so callers can branch on the status. */
export class KeycloakHttpError extends Error {
  constructor(
    readonly status: number,
    readonly operation: string,
    readonly keycloakMessage: string,
  ) {
    super(`Keycloak answered ${status} to ${operation}: ${keycloakMessage}`);
    this.name = 'KeycloakHttpError';
  }
}

export function keycloakUnavailable(operation: string): DomainError {
  return new DomainError(
    ErrorCode.KeycloakUnavailable,
    `Keycloak could not be reached for ${operation}. Nothing was left half-done; try again later.`,
    {},
    { 'retry-after': '5' },
  );
}

export function keycloakPermissionMissing(operation: string, roles: readonly string[]): DomainError {
  return new DomainError(
    ErrorCode.KeycloakPermissionMissing,
    `Keycloak refused ${operation}: Keysmith's own client lacks a realm-management role. It needs: ${roles.join(', ')}.`,
    { neededRoles: roles },
  );
}

export function isStatus(error: unknown, status: number): boolean {
  return error instanceof KeycloakHttpError && error.status === status;
}
