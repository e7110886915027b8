import { Injectable } from '@nestjs/common';
import type { OperationContext } from '../../common/context/operation-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { AppConfig } from '../../config/app-config.js';
import { KeycloakClientsGateway, type RealmCatalog } from '../../keycloak/keycloak-clients.gateway.js';
import type { Grantable } from '../account-spec.js';
import type { ServiceAccountSpec } from '../dto/service-account.schemas.js';
import { GrantPolicy } from '../policy/grant-policy.js';

/**
 * Every check that comes before a write to an account: the realm is managed, the owner is within
 * the caller's boundary, the guard rails allow the grants, and every role, client and scope exists.
 */
@Injectable()
export class SpecChecker {
  private readonly policy: GrantPolicy;

  constructor(
    private readonly keycloak: KeycloakClientsGateway,
    private readonly config: AppConfig,
  ) {
    this.policy = GrantPolicy.load(config.grantPolicy.file, config.grantPolicy.denyPatterns);
  }

  /** Realm, owner boundary, guard rails, references; the realm's catalog for the spec. */
  check(context: OperationContext, realm: string, spec: ServiceAccountSpec): Promise<RealmCatalog> {
    this.assertRealm(realm);
    this.assertOwnerAllowed(context, spec.owner);
    this.assertGrantsAllowed(spec);
    return this.resolveCatalog(realm, spec);
  }

  /** The grants a spec asks for that the guard-rail policy forbids. */
  forbiddenGrants(spec: Grantable): string[] {
    return this.policy.forbidden({ realmRoles: spec.realmRoles, clientRoles: spec.clientRoles, scopes: [...spec.defaultScopes, ...spec.optionalScopes] });
  }

  assertRealm(realm: string): void {
    if (!this.config.isManagedRealm(realm)) {
      throw new DomainError(ErrorCode.RealmNotManaged, `Realm ${realm} is not managed by Keysmith.`, { realm });
    }
  }

  /** Checks that every role, client and scope exists; 422 naming each missing one. */
  async resolveCatalog(realm: string, spec: Grantable): Promise<RealmCatalog> {
    const catalog = await this.keycloak.catalog(realm, Object.keys(spec.clientRoles));
    const overlap = spec.defaultScopes.filter((scope) => spec.optionalScopes.includes(scope));
    if (overlap.length) {
      throw DomainError.validation(overlap.map((scope) => ({ field: 'optionalScopes', message: `${scope} is also a default scope` })));
    }
    const missingRealmRoles = spec.realmRoles.filter((role) => !catalog.realmRoles.has(role));
    const missingClientRoles: string[] = [];
    for (const [client, roles] of Object.entries(spec.clientRoles)) {
      const known = catalog.clients.get(client);
      if (!known) missingClientRoles.push(`${client} (no such client)`);
      else missingClientRoles.push(...roles.filter((role) => !known.roles.has(role)).map((role) => `${client}:${role}`));
    }
    const missingScopes = [...spec.defaultScopes, ...spec.optionalScopes].filter((scope) => !catalog.clientScopes.has(scope));
    if (missingRealmRoles.length || missingClientRoles.length) throw unknownRoles(realm, missingRealmRoles, missingClientRoles, missingScopes);
    if (missingScopes.length) throw unknownScopes(realm, spec, missingScopes);
    return catalog;
  }

  private assertOwnerAllowed(context: OperationContext, owner: string): void {
    if (context.owner && context.owner !== owner) {
      throw new DomainError(ErrorCode.OwnerForbidden, `You may only manage service accounts owned by ${context.owner}.`, { owner: context.owner });
    }
  }

  private assertGrantsAllowed(spec: Grantable): void {
    const forbidden = this.forbiddenGrants(spec);
    if (forbidden.length) {
      throw new DomainError(ErrorCode.GrantForbidden, `The guard-rail policy forbids granting: ${forbidden.join(', ')}.`, { forbidden });
    }
  }
}

function unknownRoles(realm: string, realmRoles: string[], clientRoles: string[], scopes: string[]): DomainError {
  const named = [...realmRoles.map((r) => `realm role ${r}`), ...clientRoles.map((r) => `client role ${r}`), ...scopes.map((s) => `client scope ${s}`)];
  return new DomainError(ErrorCode.UnknownRole, `Unknown in realm ${realm}: ${named.join(', ')}.`, {
    missing: { realmRoles, clientRoles, scopes },
    errors: [
      ...realmRoles.map((role) => ({ field: 'realmRoles', message: `unknown realm role ${role}` })),
      ...clientRoles.map((role) => ({ field: 'clientRoles', message: `unknown client role ${role}` })),
      ...scopes.map((scope) => ({ field: 'scopes', message: `unknown client scope ${scope}` })),
    ],
  });
}

function unknownScopes(realm: string, spec: Grantable, scopes: string[]): DomainError {
  return new DomainError(ErrorCode.UnknownScope, `Unknown client scopes in realm ${realm}: ${scopes.join(', ')}.`, {
    missing: { scopes },
    errors: scopes.map((scope) => ({ field: spec.defaultScopes.includes(scope) ? 'defaultScopes' : 'optionalScopes', message: `unknown client scope ${scope}` })),
  });
}
