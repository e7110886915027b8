import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import pLimit, { type LimitFunction } from 'p-limit';
import { Agent, request } from 'undici';
import { Counter } from 'prom-client';
import { AppConfig, type KeycloakConfig } from '../config/app-config.js';
import { KeycloakHttpError, keycloakUnavailable } from './keycloak.errors.js';
import { MetricsRegistry } from '../common/metrics/metrics.registry.js';
import { Random } from '../common/random/random.js';
import { countKeycloakCall } from './keycloak-call-meter.js';

/**
 * The realm-management roles Keysmith's own client needs in each managed realm, and why:
 * - view-realm: read realm roles, their composites and client scopes (mappers, role scope mappings)
 *   to judge grants;
 * - query-clients, view-clients: find clients by clientId and by Keysmith's ownership attribute, and
 *   read client roles and their composites for the guard rails;
 * - manage-clients: create, update, delete clients, set their scopes, rotate their secrets;
 * - query-users, view-users, manage-users: read and change the role mappings of a client's
 *   service-account user;
 * - view-events: read the realm's admin events, to follow changes made in Keycloak directly
 *   (turning them on needs manage-events, which Keysmith does not hold: an admin does it once).
 * None of them can grant the realm-management roles themselves (Keycloak refuses that without them).
 */
export const REQUIRED_REALM_MANAGEMENT_ROLES = [
  'view-realm',
  'query-clients',
  'view-clients',
  'manage-clients',
  'query-users',
  'view-users',
  'manage-users',
  'view-events',
] as const;

export type CallKind = 'read' | 'write';

export interface TokenResult {
  ok: boolean;
  status: number;
  accessToken?: string;
  /** Seconds, as Keycloak answered. */
  expiresIn?: number;
  /** The scopes Keycloak put in the token, space-separated. */
  scope?: string;
  error?: string;
}

/**
 * Keysmith's way to Keycloak: its URLs, client-credentials token requests and readiness, and the
 * call policy every Admin REST call goes through (bounded concurrency, retries of transient
 * failures with backoff and jitter). Failures become KeycloakHttpError (for callers to branch on)
 * or a 503 KEYCLOAK_UNAVAILABLE DomainError. It offers no Admin REST access: the raw admin client
 * lives in KeycloakAdmin, which only this folder's gateways use.
 */
@Injectable()
export class KeycloakService implements OnApplicationShutdown {
  private readonly logger = new Logger(KeycloakService.name);
  private readonly settings: KeycloakConfig;
  private readonly limit: LimitFunction;
  private readonly calls: Counter<'kind' | 'outcome'>;
  /** Admin REST calls made, by kind; read by tests and benchmarks. */
  readonly callCount = { read: 0, write: 0, token: 0 };
  /** Token requests' own connections, kept alive between requests. */
  private readonly tokenAgent = new Agent({ keepAliveTimeout: 10_000 });

  constructor(
    config: AppConfig,
    metrics: MetricsRegistry,
    private readonly random: Random,
  ) {
    this.settings = config.keycloak;
    this.limit = pLimit(this.settings.maxConcurrency);
    this.calls = metrics.counter('keysmith_keycloak_requests_total', 'Keycloak Admin REST calls by kind and outcome', ['kind', 'outcome']);
  }

  get baseUrl(): string {
    return this.settings.url;
  }

  issuer(realm: string): string {
    return `${this.settings.url}/realms/${encodeURIComponent(realm)}`;
  }

  jwksUrl(realm: string): string {
    return `${this.issuer(realm)}/protocol/openid-connect/certs`;
  }

  /**
   * A client-credentials token request for any client: proving a secret works, or a token of a
   * service account for an exchanged API key (`scope`: optional client scopes to request).
   */
  async clientCredentials(realm: string, clientId: string, clientSecret: string, scope?: string): Promise<TokenResult> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
    if (scope) form.set('scope', scope);
    // undici's request, not fetch: a token exchange that misses its cache waits on this call, and
    // fetch's stream machinery adds about a millisecond to every request.
    const response = await this.withRetries('token', `token request for ${clientId}`, async () => {
      const res = await request(`${this.issuer(realm)}/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
        dispatcher: this.tokenAgent,
        headersTimeout: this.settings.timeoutMs,
        bodyTimeout: this.settings.timeoutMs,
      });
      if (res.statusCode >= 500 || res.statusCode === 429) {
        await res.body.dump();
        throw new KeycloakHttpError(res.statusCode, 'token request', `status ${res.statusCode}`);
      }
      return res;
    });
    const body = (await response.body.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; scope?: string; error?: string };
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    return ok
      ? { ok: true, status: response.statusCode, accessToken: body.access_token, expiresIn: body.expires_in, scope: body.scope ?? '' }
      : { ok: false, status: response.statusCode, error: body.error ?? 'unknown_error' };
  }

  /** Closes the kept-alive connections of token requests. */
  async onApplicationShutdown(): Promise<void> {
    await this.tokenAgent.close();
  }

  /** Readiness: is Keycloak answering for the realm Keysmith authenticates in? */
  async ping(timeoutMs = 2_000): Promise<void> {
    const response = await fetch(this.issuer(this.settings.adminRealm), { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`Keycloak answered ${response.status}`);
  }

  /**
   * Runs one call under the policy: Admin REST calls wait for a slot of the concurrency limit;
   * reads are retried on 5xx, 429 and connection errors, writes only where the request cannot have
   * been applied (connection refused, 429, 503).
   */
  async withRetries<T>(kind: CallKind | 'token', operation: string, attempt: () => Promise<T>): Promise<T> {
    // Token requests bypass the limiter: they run inside limited admin calls and must not wait on them.
    const run = async () => {
      countKeycloakCall();
      try {
        return await attempt();
      } catch (error) {
        throw normalise(error, operation);
      }
    };
    for (let tries = 0; ; tries += 1) {
      try {
        const result = kind === 'token' ? await run() : await this.limit(run);
        this.calls.inc({ kind, outcome: 'ok' });
        return result;
      } catch (error) {
        const retryable = isRetryable(error, kind === 'write');
        this.calls.inc({ kind, outcome: retryable ? 'retryable_error' : 'error' });
        if (!retryable || tries >= this.settings.maxRetries) {
          if (retryable || isConnectionError(error)) throw keycloakUnavailable(operation);
          throw error;
        }
        const delay = this.settings.retryBaseMs * 2 ** tries;
        await new Promise((resolve) => setTimeout(resolve, delay / 2 + this.random.fraction() * delay));
      }
    }
  }

}

interface AdminClientNetworkError {
  response?: { status: number };
  responseData?: unknown;
  message: string;
}

function normalise(error: unknown, operation: string): unknown {
  const candidate = error as AdminClientNetworkError;
  if (candidate?.response && typeof candidate.response.status === 'number') {
    const data = candidate.responseData as { errorMessage?: string; error?: string } | string | undefined;
    const message = typeof data === 'object' && data ? (data.errorMessage ?? data.error ?? candidate.message) : candidate.message;
    return new KeycloakHttpError(candidate.response.status, operation, String(message));
  }
  return error;
}

function isConnectionError(error: unknown): boolean {
  const err = error as { name?: string; cause?: { code?: string }; code?: string };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return true;
  const code = err?.cause?.code ?? err?.code;
  // By name, not instanceof: fetch's TypeError may come from another realm (as under jest's VM).
  return (err?.name === 'TypeError' && /fetch failed/i.test((error as Error).message)) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'].includes(code ?? '');
}

function isRetryable(error: unknown, write: boolean): boolean {
  if (error instanceof KeycloakHttpError) {
    if (write) return error.status === 429 || error.status === 503;
    return error.status === 429 || error.status >= 500;
  }
  if (!isConnectionError(error)) return false;
  if (!write) return true;
  const code = (error as { cause?: { code?: string } }).cause?.code;
  return code === 'ECONNREFUSED';
}
