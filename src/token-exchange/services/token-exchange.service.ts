import type { Tally, TallyCell } from '../../common/metrics/tally.js';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ApiKeyVerificationService } from '../../api-keys/index.js';
import { TtlCache } from '../../common/cache/ttl-cache.js';
import { ChangeFeed } from '../../common/changes/index.js';
import { AuditService } from '../../audit/index.js';
import type { ApiKeyCheck, ApiKeyIdentity } from '../../auth/index.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { Clock } from '../../common/time/clock.js';
import { AppConfig } from '../../config/app-config.js';
import { MetricsRegistry } from '../../common/metrics/metrics.registry.js';
import { isStatus } from '../../keycloak/index.js';
import { KeycloakService, type TokenResult } from '../../keycloak/index.js';
import { ServiceAccountCredentials, type ExchangeAccount } from '../../service-accounts/index.js';
import { TokenExchangeError } from '../token-exchange.errors.js';
import { ExchangeAuditSampler } from './exchange-audit.js';
import { planScopes, splitScopes, unexpectedScopes, type ScopePlan } from './exchange-scopes.js';
import { ExchangedTokenCache, type CachedToken } from './exchanged-token-cache.js';

export interface ExchangeOptions {
  /** The `scope` parameter, split; undefined: every scope the key holds. */
  scopes?: string[];
  clientAddress?: string;
  requestId?: string | null;
  /** Which route asked, for metrics and audit. */
  via: 'token' | 'forward-auth';
}

export interface ExchangeResult {
  identity: ApiKeyIdentity;
  accessToken: string;
  /** Whole seconds the token has left. */
  expiresIn: number;
  /** The token's scopes, as Keycloak put them in it. */
  scopes: string[];
  cached: boolean;
  /** The cache entry the token came from: the same object for every hand-out of one token. */
  entry: CachedToken;
}

interface PlannedExchange {
  plan: ScopePlan;
  /** The token cache's key (empty when the plan refuses). */
  cacheKey: string;
}

const KEY_FAILURES: Record<string, string> = {
  MALFORMED: 'The subject_token is not a Keysmith API key.',
  NOT_FOUND: 'The API key is not known.',
  EXPIRED: 'The API key has expired.',
  REVOKED: 'The API key has been revoked.',
  CLIENT_DISABLED: 'The service account of the API key is disabled.',
};

/**
 * Trades an API key for an access token that Keycloak issues to the key's service account (a
 * client-credentials request with the account's stored secret). The key is verified first on
 * every call, so a revoked, expired or disabled key never gets a token, cached or new. Tokens are
 * cached per key and scope set (see ExchangedTokenCache); revocation, key rotation and account
 * changes drop them through the change feed: at once on the instance that made the change, within
 * a notification or a poll (1 s) on the others.
 */
@Injectable()
export class TokenExchangeService implements OnModuleInit {
  private readonly logger = new Logger(TokenExchangeService.name);
  private readonly tokens: ExchangedTokenCache;
  private readonly accounts: TtlCache<string, ExchangeAccount | null>;
  private readonly exchanges: Tally<'via' | 'outcome' | 'cache'>;
  private readonly sampler: ExchangeAuditSampler;
  /** The counters of tokens handed out, by route and cache use: kept cells (see Tally.cell). */
  private readonly issued: Record<ExchangeOptions['via'], Record<'hit' | 'miss', TallyCell<'via' | 'outcome' | 'cache'>>>;
  /** Plans of exchanges that name no scope, by account snapshot and key identity (see planFor). */
  private readonly defaultPlans = new WeakMap<ExchangeAccount, WeakMap<ApiKeyIdentity, PlannedExchange>>();

  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly verification: ApiKeyVerificationService,
    private readonly credentials: ServiceAccountCredentials,
    private readonly keycloak: KeycloakService,
    private readonly changes: ChangeFeed,
    audit: AuditService,
    metrics: MetricsRegistry,
  ) {
    const now = () => this.clock.nowMs();
    this.tokens = new ExchangedTokenCache(Math.max(config.apiKeys.cacheSize, 1_000), now);
    this.accounts = new TtlCache(10_000, config.apiKeys.cacheTtlMs, now);
    this.sampler = new ExchangeAuditSampler(audit, now);
    this.exchanges = metrics.tally('keysmith_token_exchanges_total', 'API keys traded for Keycloak tokens, by route, outcome and token cache use', ['via', 'outcome', 'cache']);
    const issued = (via: ExchangeOptions['via']) => ({
      hit: this.exchanges.cell({ via, outcome: 'issued', cache: 'hit' }),
      miss: this.exchanges.cell({ via, outcome: 'issued', cache: 'miss' }),
    });
    this.issued = { token: issued('token'), 'forward-auth': issued('forward-auth') };
  }

  onModuleInit(): void {
    this.changes.subscribe((change) => {
      if (change.kind === 'key') this.tokens.forgetKey(change.keyId);
      else if (change.kind === 'account') this.forgetAccount(change.realm, change.clientId);
      else this.forgetAll();
    });
  }

  /** POST /v1/token: verifies the key (rate limits included), then exchanges it. */
  async exchange(key: string, options: ExchangeOptions): Promise<ExchangeResult> {
    // The same limits as forward auth: the key's own rate limit, and the failure budget per address.
    const check = await this.verification.verify(key, { clientAddress: options.clientAddress, limitFailuresByAddress: true, requestId: options.requestId ?? null });
    if (!check.valid) {
      this.exchanges.inc({ via: options.via, outcome: check.code.toLowerCase(), cache: 'none' });
      throw keyRefused(check);
    }
    return this.exchangeFor(check.identity, options);
  }

  /** Exchanges a key that was verified already (forward auth verifies it with its own rules). */
  async exchangeFor(identity: ApiKeyIdentity, options: ExchangeOptions): Promise<ExchangeResult> {
    try {
      // A cached account and token are used as they are: no await (a turn of the microtask queue) on the hit path.
      const found = this.account(identity.realm, identity.clientId);
      const account = found instanceof Promise ? await found : found;
      if (!account) throw new TokenExchangeError('invalid_grant', KEY_FAILURES.REVOKED, 'REVOKED');
      if (!account.enabled) throw new TokenExchangeError('invalid_grant', KEY_FAILURES.CLIENT_DISABLED, 'CLIENT_DISABLED');
      if (!account.tokenExchange) {
        throw new TokenExchangeError(
          'unauthorized_client',
          'Token exchange is not enabled for the service account of this key (apiKeyPolicy.tokenExchange).',
          'EXCHANGE_NOT_ENABLED',
        );
      }
      const { plan, cacheKey } = this.planFor(identity, account, options.scopes);
      if (!plan.ok) throw new TokenExchangeError('invalid_scope', plan.description, 'SCOPE_NOT_GRANTABLE', { scopes: plan.scopes });
      let token = this.tokens.get(cacheKey);
      let hit = true;
      if (token === undefined) ({ token, hit } = await this.tokens.getOrFetch(cacheKey, () => this.fetchToken(identity, account, plan)));
      const result = {
        identity,
        accessToken: token.accessToken,
        expiresIn: secondsLeft(token.expiresAt, this.clock.nowMs()),
        scopes: token.scopes,
        cached: hit,
        entry: token,
      };
      this.issued[options.via][hit ? 'hit' : 'miss'].inc();
      // Sampled at once; an admitted event is written after the answer, off the token's latency (failures logged).
      const suppressed = this.sampler.admit('success', identity);
      if (suppressed !== undefined) {
        const entry = { identity, outcome: 'success' as const, requestId: options.requestId ?? null, detail: { via: options.via, scopes: token.scopes, cached: hit } };
        setImmediate(() => void this.sampler.write(entry, suppressed));
      }
      return result;
    } catch (error) {
      const refusal = error instanceof TokenExchangeError ? error : unavailable(error);
      this.exchanges.inc({ via: options.via, outcome: refusal.refusal.toLowerCase(), cache: 'none' });
      await this.sampler.record({
        identity,
        outcome: 'failure',
        requestId: options.requestId ?? null,
        detail: { via: options.via, error: refusal.error, reason: refusal.refusal, ...(refusal.extras.scopes ? { scopes: refusal.extras.scopes } : {}) },
      });
      throw refusal;
    }
  }

  /** How many tokens this instance holds for a key, for diagnostics and tests. */
  cachedTokenCount(keyId: string): number {
    return this.tokens.countFor(keyId);
  }

  /** Drops every cached token and account snapshot of an account (it changed, rotated or went). */
  forgetAccount(realm: string, clientId: string): void {
    this.accounts.delete(accountKey(realm, clientId));
    this.tokens.forgetAccount(realm, clientId);
  }

  /** Drops every cached token and account snapshot (the change feed could not be followed). */
  forgetAll(): void {
    this.accounts.clear();
    this.tokens.forgetAll();
  }

  /**
   * The scope plan of an exchange and the token cache's key for it. An exchange that names no
   * scopes (forward auth, most token requests) reuses the plan made for the same account snapshot
   * and key identity: both are replaced, never changed, when they change (see TtlCache here and
   * ApiKeyVerificationService.identityOf), so a plan is made again at the first exchange after.
   */
  private planFor(identity: ApiKeyIdentity, account: ExchangeAccount, requested: string[] | undefined): PlannedExchange {
    const make = (): PlannedExchange => {
      const plan = planScopes({ requested, keyScopes: identity.scopes, ...account, baseScopes: this.config.baseClientScopes });
      return { plan, cacheKey: plan.ok ? ExchangedTokenCache.keyOf(identity.keyId, plan.wanted) : '' };
    };
    if (requested !== undefined) return make();
    let byIdentity = this.defaultPlans.get(account);
    if (byIdentity === undefined) {
      byIdentity = new WeakMap();
      this.defaultPlans.set(account, byIdentity);
    }
    let planned = byIdentity.get(identity);
    if (planned === undefined) {
      planned = make();
      byIdentity.set(identity, planned);
    }
    return planned;
  }

  /** The account as held in memory, as a value; else read (once for all who ask meanwhile, and held), as a promise. */
  private account(realm: string, clientId: string): ExchangeAccount | null | Promise<ExchangeAccount | null> {
    return this.accounts.getOrLoad(accountKey(realm, clientId), () => this.credentials.forExchange(realm, clientId));
  }

  private async fetchToken(identity: ApiKeyIdentity, account: ExchangeAccount, plan: { wanted: string[]; keycloakScope: string }): Promise<Omit<CachedToken, 'refreshAt'>> {
    let result = await this.request(account, plan.keycloakScope);
    if (!result.ok && (result.error === 'invalid_client' || result.error === 'unauthorized_client')) {
      // The stored secret may predate a rotation another process has not stored yet: ask Keycloak for the current one.
      const fresh = await this.credentials.freshFromKeycloak(account).catch((error: unknown) => {
        if (isStatus(error, 404)) return null;
        throw error;
      });
      if (fresh) {
        this.accounts.set(accountKey(account.realm, account.clientId), fresh);
        result = await this.request(fresh, plan.keycloakScope);
      }
    }
    if (!result.ok && result.error === 'invalid_scope') {
      throw new TokenExchangeError('invalid_scope', `Keycloak refused the scopes ${plan.keycloakScope} for the key's service account.`, 'SCOPE_NOT_GRANTABLE', {
        scopes: splitScopes(plan.keycloakScope),
      });
    }
    if (!result.ok || !result.accessToken) {
      this.logger.warn(`Keycloak refused a token for ${account.realm}/${account.clientId} (${result.status} ${result.error})`);
      throw new TokenExchangeError('invalid_grant', `Keycloak refused a token for the key's service account (${result.error ?? 'no token'}).`, 'KEYCLOAK_REFUSED');
    }
    const granted = splitScopes(result.scope).sort();
    const extra = unexpectedScopes(granted, plan.wanted, this.config.baseClientScopes);
    if (extra.length) {
      throw new TokenExchangeError(
        'invalid_scope',
        `Keycloak put the scope${extra.length === 1 ? '' : 's'} ${extra.join(' ')} in the token, which the key does not hold or was not asked for; no token is issued.`,
        'SCOPE_NOT_GRANTABLE',
        { scopes: extra },
      );
    }
    const lifespan = this.config.tokenExchange.accessTokenLifespanSeconds;
    const expiresIn = result.expiresIn ?? lifespan;
    if (expiresIn > lifespan) {
      // The bound the README promises (a revoked key's last token dies within the lifespan) holds
      // only for tokens no longer-lived than it: the client's lifespan was changed in Keycloak, or
      // the change enabling exchange did not reach it.
      this.logger.warn(`Keycloak issued a ${expiresIn} s token for ${account.realm}/${account.clientId}, beyond the ${lifespan} s exchange lifespan; reconcile the account`);
      throw new TokenExchangeError(
        'server_error',
        `Keycloak issued a token living ${expiresIn} s, longer than the ${lifespan} s set for exchanged tokens (the client's access-token lifespan differs in Keycloak); no token is issued until the account is reconciled.`,
        'TOKEN_LIFESPAN_EXCEEDED',
      );
    }
    return { accessToken: result.accessToken, scopes: granted, keyId: identity.keyId, realm: account.realm, clientId: account.clientId, expiresAt: this.clock.nowMs() + expiresIn * 1000 };
  }

  private request(account: ExchangeAccount, scope: string): Promise<TokenResult> {
    return this.keycloak.clientCredentials(account.realm, account.clientId, account.clientSecret, scope || undefined);
  }
}

function keyRefused(check: Extract<ApiKeyCheck, { valid: false }>): TokenExchangeError {
  if (check.code === 'RATE_LIMITED') {
    return new TokenExchangeError('temporarily_unavailable', 'Too many requests; retry after the time in Retry-After.', 'RATE_LIMITED', {
      retryAfterSeconds: check.retryAfterSeconds ?? 1,
      status: 429,
    });
  }
  return new TokenExchangeError('invalid_grant', KEY_FAILURES[check.code] ?? 'The API key is not valid.', check.code);
}

function unavailable(error: unknown): TokenExchangeError {
  if (error instanceof DomainError && error.code === ErrorCode.KeycloakUnavailable) {
    return new TokenExchangeError('temporarily_unavailable', 'Keycloak could not be reached; try again later.', 'KEYCLOAK_UNAVAILABLE', { retryAfterSeconds: 5 });
  }
  throw error;
}

function accountKey(realm: string, clientId: string): string {
  return `${realm}\u0000${clientId}`;
}

/**
 * The seconds a token has left, as `expires_in` says them: rounded, so that a token answered in
 * the milliseconds after Keycloak issued it reports the lifespan Keycloak gave (300, not 299, as
 * a floor read whenever a millisecond passed between the fetch and the answer); at least 1.
 */
export function secondsLeft(expiresAtMs: number, nowMs: number): number {
  return Math.max(1, Math.round((expiresAtMs - nowMs) / 1000));
}
