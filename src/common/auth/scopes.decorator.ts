import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension, ApiSecurity } from '@nestjs/swagger';

/** Keysmith's own API scopes (see the README and the contract). */
export const API_SCOPES = [
  'service-accounts:read',
  'service-accounts:write',
  'api-keys:read',
  'api-keys:write',
  'api-keys:verify',
  'secrets:read',
  'audit:read',
  'jobs:read',
  'jobs:run',
  'gitops:apply',
] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export const REQUIRED_SCOPES = 'keysmith:required-scopes';
export const PUBLIC_ROUTE = 'keysmith:public-route';

/**
 * Declares the scopes a route needs. The auth guard refuses a caller without all of them; the
 * OpenAPI document lists them under `x-required-scopes` and as security requirements.
 */
export function RequireScopes(...scopes: ApiScope[]): MethodDecorator {
  return applyDecorators(
    SetMetadata(REQUIRED_SCOPES, scopes),
    ApiSecurity('bearer', scopes),
    ApiSecurity('apiKey', scopes),
    ApiExtension('x-required-scopes', scopes),
  );
}

/** Marks a route that needs no credential of Keysmith's own API. */
export function PublicRoute(): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(PUBLIC_ROUTE, true), ApiExtension('x-required-scopes', []));
}
