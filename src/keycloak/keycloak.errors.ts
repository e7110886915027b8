import { DomainError, type ConvertibleToDomainError } from '../common/errors/domain-error.js';
import { ErrorCode } from '../common/errors/error-code.js';

/**
 * Keycloak answered with an HTTP error; callers branch on the status (404, 409). One nobody
 * handled reaches the client as 502 KEYCLOAK_REJECTED with Keycloak's message, which never holds
 * a secret.
 */
export class KeycloakHttpError extends Error implements ConvertibleToDomainError {
  constructor(
    readonly status: number,
    readonly operation: string,
    readonly keycloakMessage: string,
  ) {
    super(`Keycloak answered ${status} to ${operation}: ${keycloakMessage}`);
    this.name = 'KeycloakHttpError';
  }

  toDomainError(): DomainError {
    return new DomainError(ErrorCode.KeycloakRejected, this.message, { keycloakStatus: this.status });
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
