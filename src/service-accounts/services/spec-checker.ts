import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/index.js';
import { keysmithScopesBeyondCaller } from '../../common/auth/caller-authority.js';
import type { OperationContext } from '../../common/context/operation-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { AppConfig } from '../../config/app-config.js';
import { KeycloakClientsGateway, type RealmCatalog } from '../../keycloak/index.js';
import type { Grantable } from '../account-spec.js';
import type { ServiceAccountSpec } from '../dto/service-account.schemas.js';
import type { ServiceAccountEntity } from '../entities/service-account.entity.js';
import { GrantValidator, describeViolations, type GrantViolation } from '../policy/grant-validator.js';

type CallerScopes = Pick<OperationContext, 'callerScopes'>;

/**
 * Every check that comes before a write to an account: the realm is managed, the owner is within
 * the caller's boundary, every role, client and scope exists, and the grant validator (effective
 * permissions) allows what the change adds.
 */
@Injectable()
export class SpecChecker {
  constructor(
    private readonly keycloak: KeycloakClientsGateway,
    private readonly validator: GrantValidator,
    private readonly audit: AuditService,
    private readonly config: AppConfig,
  ) {}

  /** Realm, owner boundary, references, guard rails (judged on what `spec` adds to `held`); the realm's catalog. */
  async check(context: OperationContext, realm: string, clientId: string, spec: ServiceAccountSpec, held?: Grantable): Promise<RealmCatalog> {
    this.assertRealm(realm);
    this.assertOwnerAllowed(context, spec.owner);
    const catalog = await this.resolveCatalog(realm, spec);
    await this.assertGrantsAllowed(context, realm, clientId, spec, held);
    return catalog;
  }

  /**
   * The guard-rail violations of the grants `spec` adds to `held` (all of them without `held`),
   * judged by what they really give. Grants an account already holds are not judged again here:
   * the drift job and the start-up check report those.
   */
  async grantViolations(context: CallerScopes, realm: string, spec: Grantable, held?: Grantable): Promise<GrantViolation[]> {
    const base = new Set(this.config.baseClientScopes);
    const heldScopes = new Set([...(held?.defaultScopes ?? []), ...(held?.optionalScopes ?? [])]);
    const request = {
      realmRoles: spec.realmRoles.filter((role) => !held?.realmRoles.includes(role)),
      clientRoles: Object.fromEntries(
        Object.entries(spec.clientRoles)
          .map(([client, roles]) => [client, roles.filter((role) => !held?.clientRoles[client]?.includes(role))] as const)
          .filter(([, roles]) => roles.length > 0),
      ),
      scopes: [...new Set([...spec.defaultScopes, ...spec.optionalScopes])].filter((scope) => !base.has(scope) && !heldScopes.has(scope)),
    };
    if (request.realmRoles.length === 0 && Object.keys(request.clientRoles).length === 0 && request.scopes.length === 0) return [];
    return (await this.validator.validate(context, realm, request)).violations;
  }

  /**
   * Judges what a change adds to Keycloak itself, grants an account's stored spec already held
   * included: a role removed in Keycloak (or renamed there, its name now another role's) that a
   * PUT, PATCH or drift repair would grant again is judged as any new grant, and refused the same way.
   */
  async assertAddedAllowed(context: OperationContext, realm: string, clientId: string, owner: string, added: Grantable): Promise<void> {
    await this.assertGrantsAllowed(context, realm, clientId, { ...added, owner } as ServiceAccountSpec);
  }

  /**
   * The secret of an account gets tokens with every scope the account holds (optional ones on
   * request), so only a caller holding each of Keysmith's own scopes among them may read or rotate
   * it: a caller with `secrets:read` alone must not take `keysmith:admin` from an account of its
   * owner. 403 SCOPE_ESCALATION naming the scopes.
   */
  assertSecretWithinCaller(context: CallerScopes, row: Pick<ServiceAccountEntity, 'clientId' | 'defaultScopes' | 'optionalScopes'>): void {
    const beyond = keysmithScopesBeyondCaller(context, [...row.defaultScopes, ...row.optionalScopes], this.config.auth.adminScope).sort();
    if (beyond.length === 0) return;
    throw new DomainError(ErrorCode.ScopeEscalation, `The secret of ${row.clientId} gets tokens with Keysmith scopes you do not hold: ${beyond.join(', ')}.`, { scopes: beyond });
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

  /** 403 GRANT_FORBIDDEN naming each grant and its path, audited; a Keycloak failure propagates (never a pass). */
  private async assertGrantsAllowed(context: OperationContext, realm: string, clientId: string, spec: ServiceAccountSpec, held?: Grantable): Promise<void> {
    const violations = await this.grantViolations(context, realm, spec, held);
    if (violations.length === 0) return;
    const forbidden = grantsOf(violations);
    await this.audit.record(context, { action: 'service_account.grant_refused', outcome: 'failure', realm, clientId, detail: { owner: spec.owner, forbidden, violations } });
    throw new DomainError(ErrorCode.GrantForbidden, `The guard-rail policy forbids granting ${forbidden.join(', ')}: ${describeViolations(violations)}.`, { forbidden, violations });
  }
}

/** The grants named by violations, once each. */
export function grantsOf(violations: GrantViolation[]): string[] {
  return [...new Set(violations.map((v) => v.grant))];
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
