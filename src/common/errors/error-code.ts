/**
 * The closed vocabulary of machine-readable error codes. Every code has exactly one HTTP status
 * and title in ERROR_CATALOG; the compiler refuses a code without one.
 */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  MalformedRequest = 'MALFORMED_REQUEST',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  NotFound = 'NOT_FOUND',
  MethodNotAllowed = 'METHOD_NOT_ALLOWED',
  RealmNotManaged = 'REALM_NOT_MANAGED',
  AuthenticationRequired = 'AUTHENTICATION_REQUIRED',
  InvalidCredentials = 'INVALID_CREDENTIALS',
  AmbiguousCredentials = 'AMBIGUOUS_CREDENTIALS',
  MalformedCredentials = 'MALFORMED_CREDENTIALS',
  InsufficientScope = 'INSUFFICIENT_SCOPE',
  RateLimited = 'RATE_LIMITED',
  ClientExists = 'CLIENT_EXISTS',
  ServiceAccountNotFound = 'SERVICE_ACCOUNT_NOT_FOUND',
  UnknownRole = 'UNKNOWN_ROLE',
  UnknownScope = 'UNKNOWN_SCOPE',
  GrantForbidden = 'GRANT_FORBIDDEN',
  ApiKeyNotFound = 'API_KEY_NOT_FOUND',
  ScopeNotAllowed = 'SCOPE_NOT_ALLOWED',
  TtlTooLong = 'TTL_TOO_LONG',
  ApiKeyNotActive = 'API_KEY_NOT_ACTIVE',
  JobNotFound = 'JOB_NOT_FOUND',
  JobRunning = 'JOB_RUNNING',
  Conflict = 'CONFLICT',
  KeycloakUnavailable = 'KEYCLOAK_UNAVAILABLE',
  KeycloakPermissionMissing = 'KEYCLOAK_PERMISSION_MISSING',
  KeycloakRejected = 'KEYCLOAK_REJECTED',
  Internal = 'INTERNAL',
}

export interface ErrorCatalogEntry {
  status: number;
  title: string;
}

export const ERROR_CATALOG: Record<ErrorCode, ErrorCatalogEntry> = {
  [ErrorCode.ValidationFailed]: { status: 400, title: 'The request is not valid' },
  [ErrorCode.MalformedRequest]: { status: 400, title: 'The request body could not be read' },
  [ErrorCode.UnsupportedMediaType]: { status: 415, title: 'Unsupported media type' },
  [ErrorCode.PayloadTooLarge]: { status: 413, title: 'Request body too large' },
  [ErrorCode.NotFound]: { status: 404, title: 'Not found' },
  [ErrorCode.MethodNotAllowed]: { status: 405, title: 'Method not allowed' },
  [ErrorCode.RealmNotManaged]: { status: 404, title: 'Realm not managed by Keysmith' },
  [ErrorCode.AuthenticationRequired]: { status: 401, title: 'Authentication required' },
  [ErrorCode.InvalidCredentials]: { status: 401, title: 'Invalid credentials' },
  [ErrorCode.AmbiguousCredentials]: { status: 400, title: 'More than one credential given' },
  [ErrorCode.MalformedCredentials]: { status: 400, title: 'Malformed credentials' },
  [ErrorCode.InsufficientScope]: { status: 403, title: 'Insufficient scope' },
  [ErrorCode.RateLimited]: { status: 429, title: 'Too many requests' },
  [ErrorCode.ClientExists]: { status: 409, title: 'Client already exists' },
  [ErrorCode.ServiceAccountNotFound]: { status: 404, title: 'Service account not found' },
  [ErrorCode.UnknownRole]: { status: 422, title: 'Unknown role' },
  [ErrorCode.UnknownScope]: { status: 422, title: 'Unknown client scope' },
  [ErrorCode.GrantForbidden]: { status: 403, title: 'Grant forbidden by policy' },
  [ErrorCode.ApiKeyNotFound]: { status: 404, title: 'API key not found' },
  [ErrorCode.ScopeNotAllowed]: { status: 422, title: 'Scope not allowed for this service account' },
  [ErrorCode.TtlTooLong]: { status: 422, title: 'Key lifetime too long' },
  [ErrorCode.ApiKeyNotActive]: { status: 409, title: 'API key is not active' },
  [ErrorCode.JobNotFound]: { status: 404, title: 'Job not found' },
  [ErrorCode.JobRunning]: { status: 409, title: 'Job is already running' },
  [ErrorCode.Conflict]: { status: 409, title: 'Conflict' },
  [ErrorCode.KeycloakUnavailable]: { status: 503, title: 'Keycloak unavailable' },
  [ErrorCode.KeycloakPermissionMissing]: { status: 502, title: 'Keysmith lacks a Keycloak permission' },
  [ErrorCode.KeycloakRejected]: { status: 502, title: 'Keycloak rejected the request' },
  [ErrorCode.Internal]: { status: 500, title: 'Internal server error' },
};
