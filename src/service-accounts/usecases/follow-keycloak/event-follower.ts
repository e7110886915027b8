import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, Repository } from 'typeorm';
import type { OperationContext } from '../../../common/context/operation-context.js';
import { DomainError } from '../../../common/errors/domain-error.js';
import { impactOf, type AdminEvent } from '../../../keycloak/index.js';
import { ServiceAccountEntity } from '../../entities/service-account.entity.js';
import { KeycloakChanges } from '../../ports/keycloak-changes.port.js';
import { toServiceAccountView } from '../../service-account.view.js';
import { PolicyViolationsService } from '../../services/policy-violations.service.js';
import { Clock } from '../../../common/time/clock.js';
import { ObserveAccountUseCase } from './observe-account.usecase.js';

/** A little over how long the guard rails reuse what they read of the role graph. */
const GRANT_GRAPH_REUSE_MS = 6_000;

/**
 * Turns a batch of admin events into work: the accounts whose client or service-account user an
 * event touched are read again in full (once per batch); a deleted or changed client scope asks
 * for a sweep (it may leave many accounts); a deleted role re-reads its holders, and a composite
 * edit judges the grants of every account holding roles by the guard rails again.
 */
@Injectable()
export class EventFollower {
  private readonly logger = new Logger(EventFollower.name);

  constructor(
    @InjectRepository(ServiceAccountEntity) private readonly accounts: Repository<ServiceAccountEntity>,
    private readonly changes: KeycloakChanges,
    private readonly observe: ObserveAccountUseCase,
    private readonly policy: PolicyViolationsService,
    private readonly clock: Clock,
  ) {}

  /**
   * Realms whose grants are judged again on a later poll: the guard rails reuse what they read of
   * the role graph for up to 5 s, so a composite edit is judged once more after that.
   */
  private readonly judgeAgainAt = new Map<string, number>();

  async follow(realm: string, events: AdminEvent[], context: OperationContext): Promise<{ sweep: boolean }> {
    const clients = new Map<string, { secret: boolean }>();
    const users = new Set<string>();
    const roles = new Set<string | undefined>();
    let sweep = false;
    const again = this.judgeAgainAt.get(realm);
    let composites = again !== undefined && this.clock.nowMs() >= again;
    if (composites) this.judgeAgainAt.delete(realm);
    for (const event of events) {
      const impact = impactOf(event);
      if (impact.kind === 'client') clients.set(impact.keycloakId, { secret: impact.secret || (clients.get(impact.keycloakId)?.secret ?? false) });
      else if (impact.kind === 'user') users.add(impact.userId);
      else if (impact.kind === 'scope') sweep = true;
      else if (impact.kind === 'role') {
        if (impact.composite) {
          composites = true;
          this.judgeAgainAt.set(realm, this.clock.nowMs() + GRANT_GRAPH_REUSE_MS);
        } else roles.add(impact.name);
      }
    }
    if (clients.size === 0 && users.size === 0 && roles.size === 0 && !composites) return { sweep };
    const rows = await this.live(realm);
    const targets = new Map<string, { row: ServiceAccountEntity; secret: boolean }>();
    const byKeycloakId = new Map(rows.filter((row) => row.keycloakId).map((row) => [row.keycloakId!, row]));
    for (const [id, { secret }] of clients) {
      const row = byKeycloakId.get(id);
      if (row) targets.set(row.id, { row, secret });
    }
    const byClientId = new Map(rows.map((row) => [row.clientId, row]));
    for (const userId of users) {
      const clientId = await this.changes.serviceAccountOwner(realm, userId);
      const row = clientId ? byClientId.get(clientId) : undefined;
      if (row && !targets.has(row.id)) targets.set(row.id, { row, secret: false });
    }
    for (const row of rows.filter((candidate) => holdsAny(candidate, roles))) {
      if (!targets.has(row.id)) targets.set(row.id, { row, secret: false });
    }
    for (const { row, secret } of targets.values()) await this.safely(row, () => this.observe.fromKeycloak(context, row, { secret }));
    if (composites) await this.judgeGrants(context, rows);
    return { sweep };
  }

  /** A composite edit can make a granted role reach a forbidden one: every account holding roles is judged again. */
  private async judgeGrants(context: OperationContext, rows: ServiceAccountEntity[]): Promise<void> {
    for (const row of rows.filter((candidate) => candidate.realmRoles.length > 0 || Object.keys(candidate.clientRoles).length > 0)) {
      await this.safely(row, async () => {
        const account = toServiceAccountView(row);
        const violations = await this.policy.check(account);
        if (violations.length) await this.policy.report(context, account, violations);
      });
    }
  }

  private live(realm: string): Promise<ServiceAccountEntity[]> {
    return this.accounts.find({ where: { realm, deletedAt: IsNull(), state: In(['ready']) } });
  }

  private async safely(row: ServiceAccountEntity, work: () => Promise<unknown>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.warn(`Keycloak sync of ${row.realm}/${row.clientId} failed: ${error instanceof DomainError ? error.code : (error as Error).name}`);
    }
  }
}

/** Whether the account holds a role of one of these names (a role deleted by id, name unknown, matches any holder). */
function holdsAny(row: ServiceAccountEntity, roles: Set<string | undefined>): boolean {
  if (roles.size === 0) return false;
  const held = [...row.realmRoles, ...Object.values(row.clientRoles).flat()];
  return held.length > 0 && (roles.has(undefined) || held.some((role) => roles.has(role)));
}
