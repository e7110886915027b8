import { Injectable, Logger } from '@nestjs/common';
import { createLocalJWKSet, errors, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters } from 'jose';
import type { Counter } from 'prom-client';
import { AppConfig } from '../config/app-config.js';
import { Clock } from '../common/time/clock.js';
import { KeycloakService } from '../keycloak/index.js';
import { MetricsRegistry } from '../common/metrics/metrics.registry.js';

type KeyResolver = ReturnType<typeof createLocalJWKSet>;
type VerificationKey = Awaited<ReturnType<KeyResolver>>;

/** The realm's key set could not be fetched and none is cached: not the caller's fault. */
export class JwksUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('The signing keys of the realm could not be fetched', { cause });
    this.name = 'JwksUnavailableError';
  }
}

/** After a failed fetch with nothing cached, requests fail fast for this long instead of queueing on Keycloak. */
const FAILED_FETCH_BACKOFF_MS = 1_000;

/**
 * The signing keys of the realm whose JWTs Keysmith accepts. Fetched on first use, cached for
 * `jwksCacheMaxAgeSeconds`, and fetched again when a token names an unknown `kid` (Keycloak rotated
 * its keys) — but at most once per `jwksRefreshCooldownSeconds`, so a flood of tokens with made-up
 * `kid`s costs Keycloak one request per cool-down, not one per token. Concurrent fetches are shared.
 */
@Injectable()
export class JwksProvider {
  private readonly logger = new Logger(JwksProvider.name);
  private cached?: { resolve: KeyResolver; fetchedAt: number };
  private pending?: Promise<KeyResolver>;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastFailureAt = Number.NEGATIVE_INFINITY;
  private readonly fetches: Counter<'outcome'>;
  /** JWKS requests sent to Keycloak; read by tests. */
  fetchCount = 0;
  /** Changes each time a fetched key set differs from the one before (verified-token caches compare it). */
  keySetVersion = 0;
  private keySetText: string | undefined;

  constructor(
    private readonly config: AppConfig,
    private readonly keycloak: KeycloakService,
    private readonly clock: Clock,
    metrics: MetricsRegistry,
  ) {
    this.fetches = metrics.counter('keysmith_jwks_fetches_total', 'JWKS fetches from Keycloak by outcome', ['outcome']);
  }

  /** A key resolver for jose's `jwtVerify`. */
  readonly key = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<VerificationKey> => {
    const resolve = await this.current();
    try {
      return await resolve(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || !this.mayRefetch()) throw error;
      return (await this.refresh())(header, token);
    }
  };

  private async current(): Promise<KeyResolver> {
    const now = this.clock.nowMs();
    if (this.cached && now - this.cached.fetchedAt < this.config.auth.jwksCacheMaxAgeSeconds * 1000) return this.cached.resolve;
    if (this.cached) {
      // Stale keys still verify while Keycloak is unreachable; a rotation shows up as an unknown kid.
      const stale = this.cached.resolve;
      return this.mayRefetch() ? this.refresh().catch(() => stale) : stale;
    }
    if (now - this.lastFailureAt < FAILED_FETCH_BACKOFF_MS && !this.pending) throw new JwksUnavailableError();
    return this.refresh();
  }

  private mayRefetch(): boolean {
    return this.pending !== undefined || this.clock.nowMs() - this.lastAttemptAt >= this.config.auth.jwksRefreshCooldownSeconds * 1000;
  }

  private refresh(): Promise<KeyResolver> {
    this.pending ??= this.fetchKeys().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchKeys(): Promise<KeyResolver> {
    const url = this.keycloak.jwksUrl(this.config.jwt.realm);
    this.lastAttemptAt = this.clock.nowMs();
    this.fetchCount += 1;
    try {
      const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.config.keycloak.timeoutMs) });
      if (!response.ok) throw new Error(`Keycloak answered ${response.status}`);
      const body = (await response.json()) as JSONWebKeySet;
      if (!body || !Array.isArray(body.keys)) throw new Error('the answer is not a JWK set');
      const resolve = createLocalJWKSet(body);
      const text = JSON.stringify([...body.keys].sort((a, b) => String(a.kid).localeCompare(String(b.kid))));
      if (this.keySetText !== undefined && text !== this.keySetText) this.keySetVersion += 1;
      this.keySetText = text;
      this.cached = { resolve, fetchedAt: this.clock.nowMs() };
      this.fetches.inc({ outcome: 'ok' });
      this.logger.debug(`fetched ${body.keys.length} signing keys of realm ${this.config.jwt.realm}`);
      return resolve;
    } catch (error) {
      this.lastFailureAt = this.clock.nowMs();
      this.fetches.inc({ outcome: 'error' });
      this.logger.warn(`could not fetch the signing keys of realm ${this.config.jwt.realm} from ${url}: ${(error as Error).message}`);
      throw new JwksUnavailableError(error);
    }
  }
}
