import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import { Agent, type Dispatcher } from 'undici';
import { AppConfig, type KeycloakConfig } from '../config/app-config.js';
import { DomainError } from '../common/errors/domain-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { faultPoint } from '../common/faults/fault-points.js';
import { Clock } from '../common/time/clock.js';
import { KeycloakHttpError, keycloakPermissionMissing, keycloakUnavailable } from './keycloak.errors.js';
import { KeycloakService, REQUIRED_REALM_MANAGEMENT_ROLES, type CallKind } from './keycloak.service.js';

const TOKEN_REFRESH_MARGIN_MS = 30_000;

/**
 * The connections of Admin REST calls. undici closes a connection after a request that carries a
 * body with a method that does not expect one (`DELETE`), in case the server leaves the body
 * unread. Keycloak reads it: `DELETE .../role-mappings/realm` and `.../role-mappings/clients/{client}` take the
 * roles to remove as their body. Without this, every create (it drops the realm's default roles)
 * and every role removal opened a new connection to Keycloak, which is a TLS handshake in
 * production.
 */
class AdminAgent extends Agent {
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers): boolean {
    return super.dispatch(options.method === 'DELETE' && options.body != null ? { ...options, reset: false } : options, handler);
  }
}

/**
 * The raw Admin REST client, authenticated as Keysmith's own confidential client (client
 * credentials, fetched again before expiry or after a 401), its calls bounded and retried by
 * KeycloakService's policy. Only the gateways of this folder use it: it is not part of
 * keycloak/index.ts, and eslint.layers.js refuses an import of this file from anywhere else
 * (tests included). Other code calls a gateway method.
 */
@Injectable()
export class KeycloakAdmin implements OnApplicationShutdown {
  private readonly logger = new Logger(KeycloakAdmin.name);
  private readonly settings: KeycloakConfig;
  private readonly admin: KcAdminClient;
  private readonly agent = new AdminAgent({ keepAliveTimeout: 10_000 });
  private token?: { value: string; fetchedAt: number; refreshAt: number };
  private pendingToken?: Promise<string>;

  constructor(
    config: AppConfig,
    private readonly keycloak: KeycloakService,
    private readonly clock: Clock,
  ) {
    this.settings = config.keycloak;
    this.admin = new KcAdminClient({
      baseUrl: this.settings.url,
      realmName: this.settings.adminRealm,
      timeout: this.settings.timeoutMs,
      // Node's fetch takes undici's dispatcher option; RequestInit's type does not name it.
      requestOptions: { dispatcher: this.agent } as RequestInit,
    });
    this.admin.registerTokenProvider({ getAccessToken: () => this.accessToken() });
  }

  /** Closes the kept-alive connections of Admin REST calls. */
  async onApplicationShutdown(): Promise<void> {
    await this.agent.close();
  }

  /** KEYCLOAK_MAX_CONCURRENCY: how many calls run at once (more wait for a slot). */
  get maxConcurrency(): number {
    return this.settings.maxConcurrency;
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

  private async execute<T>(kind: CallKind, operation: string, call: (admin: KcAdminClient) => Promise<T>): Promise<T> {
    // A fault point per operation (`keycloak.grant-realm-roles`): tests fail one call the way an outage would.
    await faultPoint(`keycloak.${operation.replaceAll(' ', '-')}`, () => keycloakUnavailable(operation));
    let reauthenticated = false;
    for (;;) {
      try {
        return await this.keycloak.withRetries(kind, operation, () => {
          this.keycloak.callCount[kind] += 1;
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

  private accessToken(): Promise<string> {
    const now = this.clock.nowMs();
    // A clock moved back (tests do) fetches again rather than trusting a token past its real expiry.
    if (this.token && now >= this.token.fetchedAt && now < this.token.refreshAt) return Promise.resolve(this.token.value);
    this.pendingToken ??= this.fetchToken().finally(() => {
      this.pendingToken = undefined;
    });
    return this.pendingToken;
  }

  private async fetchToken(): Promise<string> {
    this.keycloak.callCount.token += 1;
    const result = await this.keycloak.clientCredentials(this.settings.adminRealm, this.settings.clientId, this.settings.clientSecret);
    if (!result.ok || !result.accessToken) {
      this.logger.error(`Keycloak refused Keysmith's own client credentials (${result.status} ${result.error})`);
      throw new DomainError(
        ErrorCode.KeycloakRejected,
        'Keycloak refused Keysmith\'s own client credentials. Check KEYCLOAK_CLIENT_ID and KEYCLOAK_CLIENT_SECRET.',
      );
    }
    const payload = JSON.parse(Buffer.from(result.accessToken.split('.')[1], 'base64url').toString('utf8')) as { exp?: number; iat?: number };
    // Measured on the injected clock from the token's own lifetime, so Keycloak's clock never matters.
    const lifetime = payload.exp && payload.iat ? (payload.exp - payload.iat) * 1000 : 60_000;
    const fetchedAt = this.clock.nowMs();
    this.token = { value: result.accessToken, fetchedAt, refreshAt: fetchedAt + lifetime - Math.min(TOKEN_REFRESH_MARGIN_MS, lifetime / 2) };
    return result.accessToken;
  }
}
