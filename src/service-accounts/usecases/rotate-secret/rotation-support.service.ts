import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, MoreThan, Repository } from 'typeorm';
import { Clock } from '../../../common/time/clock.js';
import { AppConfig } from '../../../config/app-config.js';
import { KeycloakClientsGateway, type SecretRotationSupport } from '../../../keycloak/index.js';
import { ServiceAccountEntity } from '../../entities/service-account.entity.js';

const DAY_S = 24 * 60 * 60;
const NAMED_AT_MOST = 20;
/**
 * How long what Keycloak said about a realm's rotation support is used before it is read again:
 * an admin may remove the feature or the client policy after start-up, and a rotation would then
 * announce a grace window Keycloak no longer keeps.
 */
export const SUPPORT_TTL_MS = 60_000;

/** Per realm, as readiness reports it. */
export interface RealmRotationReport extends SecretRotationSupport {
  /** The executor's expiration-period in days (null without the executor). */
  expirationPeriodDays: number | null;
  /** Accounts whose everyDays exceeds it: Keycloak would regenerate their secret first (at most 20 named). */
  accountsBeyondExpiration: string[];
  accountsBeyondExpirationCount: number;
}

/**
 * What Keycloak offers rotation in each managed realm: the `client-secret-rotation` feature, the
 * client policy for Keysmith's clients, and the executor's `expiration-period`, which must be at
 * least every account's `everyDays` (past it, Keycloak regenerates the secret on the next admin
 * update of the client, behind Keysmith's back).
 */
@Injectable()
export class RotationSupportService {
  private readonly logger = new Logger(RotationSupportService.name);
  private readonly support = new Map<string, { support: SecretRotationSupport; readAt: number }>();
  private lastCheck: Record<string, SecretRotationSupport> = {};

  constructor(
    @InjectRepository(ServiceAccountEntity) private readonly accounts: Repository<ServiceAccountEntity>,
    private readonly gateway: KeycloakClientsGateway,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** Checks every managed realm again and logs what limits rotation there (start-up). */
  async checkAtStartup(): Promise<void> {
    const report = await this.report(true);
    for (const [realm, support] of Object.entries(report)) {
      if (!support.feature || !support.policy) {
        this.logger.warn(
          `Secret rotation with a grace window is unavailable in realm ${realm} (feature client-secret-rotation: ${support.feature}, ` +
            `Keysmith client policy: ${support.policy}); ${this.config.jobs.allowSecretCutover ? 'rotation cuts over at once' : 'rotation is refused'}.`,
        );
      }
      if (support.accountsBeyondExpirationCount > 0) {
        this.logger.warn(
          `Keycloak's secret-rotation executor in realm ${realm} regenerates secrets after ${support.expirationPeriodDays} days, before ` +
            `${support.accountsBeyondExpirationCount} account(s) rotate (${support.accountsBeyondExpiration.join(', ')}); raise its expiration-period or lower their everyDays.`,
        );
      }
    }
  }

  /**
   * Per realm: support, and the accounts whose everyDays exceeds the executor's period. `refresh`
   * asks Keycloak again; without it, the last check is used (empty before the first).
   */
  async report(refresh = false): Promise<Record<string, RealmRotationReport>> {
    if (refresh) {
      const entries = await Promise.all(this.config.managedRealms.map(async (realm) => [realm, await this.supportFor(realm, true)] as const));
      this.lastCheck = Object.fromEntries(entries);
    }
    const entries = await Promise.all(Object.entries(this.lastCheck).map(async ([realm, support]) => [realm, await this.withAccounts(realm, support)] as const));
    return Object.fromEntries(entries);
  }

  /** What the last complete check found, without calling Keycloak; empty before it. */
  knownSupport(): Record<string, SecretRotationSupport> {
    return this.lastCheck;
  }

  /** The realm's support, read again when `refresh` asks or the last read is older than SUPPORT_TTL_MS. */
  async supportFor(realm: string, refresh = false): Promise<SecretRotationSupport> {
    const known = this.support.get(realm);
    const now = this.clock.nowMs();
    if (known && !refresh && now - known.readAt < SUPPORT_TTL_MS) return known.support;
    const support = await this.gateway.secretRotationSupport(realm);
    this.support.set(realm, { support, readAt: now });
    return support;
  }

  private async withAccounts(realm: string, support: SecretRotationSupport): Promise<RealmRotationReport> {
    const periodDays = support.expirationPeriodSeconds === null ? null : support.expirationPeriodSeconds / DAY_S;
    if (periodDays === null) return { ...support, expirationPeriodDays: null, accountsBeyondExpiration: [], accountsBeyondExpirationCount: 0 };
    const where = { realm, deletedAt: IsNull(), rotationEveryDays: MoreThan(periodDays) };
    const [rows, count] = await this.accounts.findAndCount({ where, select: { clientId: true }, order: { clientId: 'ASC' }, take: NAMED_AT_MOST });
    return { ...support, expirationPeriodDays: periodDays, accountsBeyondExpiration: rows.map((row) => row.clientId), accountsBeyondExpirationCount: count };
  }
}
