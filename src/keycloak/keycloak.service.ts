import { Injectable, Logger } from '@nestjs/common';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import pLimit, { type LimitFunction } from 'p-limit';
import { Counter } from 'prom-client';
import { AppConfig, type KeycloakConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { KeycloakHttpError, keycloakPermissionMissing, keycloakUnavailable } from './keycloak.errors.js';
import { MetricsRegistry } from '../health/metrics.registry.js';

/**
 * The realm-management roles Keysmith's own client needs in each managed realm, and why:
 * - view-realm: read realm roles, their composites and client scopes (mappers, role scope mappings)
 *   to judge grants;
 * - query-clients, view-clients: find clients by clientId and by Keysmith's ownership attribute, and
 *   read client roles and their composites for the guard rails;
 * - manage-clients: create, update, delete clients, set their scopes, rotate their secrets;
 * - query-users, view-users, manage-users: read and change the role mappings of a client's
 *   service-account user.
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

const TOKEN_REFRESH_MARGIN_MS = 30_000;

/**
 * The only way Keysmith talks to Keycloak. Authenticates as Keysmith's own confidential client
 * (client credentials, fetched again before expiry or after a 401), bounds concurrency, and
 * retries transient failures with backoff and jitter. Failures become KeycloakHttpError (for
 * callers to branch on) or a 503 KEYCLOAK_UNAVAILABLE DomainError.
 */
@Injectable()
export class KeycloakService {
  private readonly logger = new Logger(KeycloakService.name);
  private readonly settings: KeycloakConfig;
  private readonly admin: KcAdminClient;
  private readonly limit: LimitFunction;
  private token?: { value: string; refreshAt: number };
  private pendingToken?: Promise<string>;
  private readonly calls: Counter<'kind' | 'outcome'>;
  /** Admin REST calls made, by kind; read by tests and benchmarks. */
  readonly callCount = { read: 0, write: 0, token: 0 };

  constructor(config: AppConfig, metrics: MetricsRegistry) {
    this.settings = config.keycloak;
    this.admin = new KcAdminClient({ baseUrl: this.settings.url, realmName: this.settings.adminRealm, timeout: this.settings.timeoutMs });
    this.admin.registerTokenProvider({ getAccessToken: () => this.accessToken() });
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

  /** A read through the Admin REST API: retried on 5xx, 429 and connection errors. */
  read<T>(operation: string, call: (admin: KcAdminClient) => Promise<T>): Promise<T> {
    return this.execute('read', operation, call);
  }

  /**
   * A write: retried only where the request cannot have been applied (connection refused, 429,
   * 503), so a retry never repeats a write that Keycloak already made.
   */
  write<T>(operation: string, call: (admin: KcAdminClient) => Promise<T>): Promise<T> {
    return this.execute('write', operation, call);
  }

  /**
   * A client-credentials token request for any client: proving a secret works, or a token of a
   * service account for an exchanged API key (`scope`: optional client scopes to request).
   */
  async clientCredentials(realm: string, clientId: string, clientSecret: string, scope?: string): Promise<TokenResult> {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
    if (scope) form.set('scope', scope);
    const response = await this.withRetries('token', `token request for ${clientId}`, () =>
      fetch(`${this.issuer(realm)}/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      }).then((res) => {
        if (res.status >= 500 || res.status === 429) throw new KeycloakHttpError(res.status, 'token request', res.statusText);
        return res;
      }),
    );
    const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; scope?: string; error?: string };
    return response.ok
      ? { ok: true, status: response.status, accessToken: body.access_token, expiresIn: body.expires_in, scope: body.scope ?? '' }
      : { ok: false, status: response.status, error: body.error ?? 'unknown_error' };
  }

  /** Readiness: is Keycloak answering for the realm Keysmith authenticates in? */
  async ping(timeoutMs = 2_000): Promise<void> {
    const response = await fetch(this.issuer(this.settings.adminRealm), { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) throw new Error(`Keycloak answered ${response.status}`);
  }

  private async execute<T>(kind: CallKind, operation: string, call: (admin: KcAdminClient) => Promise<T>): Promise<T> {
    let reauthenticated = false;
    for (;;) {
      try {
        return await this.withRetries(kind, operation, () => {
          this.callCount[kind] += 1;
          return call(this.admin);
        });
      } catch (error) {
        if (error instanceof KeycloakHttpError && error.status === 401 && !reauthenticated) {
          reauthenticated = true;
          this.token = undefined;
          continue;
        }
        if (error instanceof KeycloakHttpError && error.status === 403) {
          throw keycloakPermissionMissing(operation, REQUIRED_REALM_MANAGEMENT_ROLES);
        }
        throw error;
      }
    }
  }

  private async withRetries<T>(kind: CallKind | 'token', operation: string, attempt: () => Promise<T>): Promise<T> {
    // Token requests bypass the limiter: they run inside limited admin calls and must not wait on them.
    const run = async () => {
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
        await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * delay));
      }
    }
  }

  private accessToken(): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAt) return Promise.resolve(this.token.value);
    this.pendingToken ??= this.fetchToken().finally(() => {
      this.pendingToken = undefined;
    });
    return this.pendingToken;
  }

  private async fetchToken(): Promise<string> {
    this.callCount.token += 1;
    const result = await this.clientCredentials(this.settings.adminRealm, this.settings.clientId, this.settings.clientSecret);
    if (!result.ok || !result.accessToken) {
      this.logger.error(`Keycloak refused Keysmith's own client credentials (${result.status} ${result.error})`);
      throw new DomainError(
        ErrorCode.KeycloakRejected,
        'Keycloak refused Keysmith\'s own client credentials. Check KEYCLOAK_CLIENT_ID and KEYCLOAK_CLIENT_SECRET.',
      );
    }
    const payload = JSON.parse(Buffer.from(result.accessToken.split('.')[1], 'base64url').toString('utf8')) as { exp?: number; iat?: number };
    const expiresAt = (payload.exp ?? Math.floor(Date.now() / 1000) + 60) * 1000;
    const lifetime = expiresAt - (payload.iat ? payload.iat * 1000 : Date.now());
    this.token = { value: result.accessToken, refreshAt: expiresAt - Math.min(TOKEN_REFRESH_MARGIN_MS, lifetime / 2) };
    return result.accessToken;
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
  return (err?.name === 'TypeError' && /fetch failed/i.test((error as Error).message)) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET'].includes(code ?? '');
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
