import type { Tally, TallyCell } from '../common/metrics/tally.js';
import { Injectable, Logger, type CanActivate, type ExecutionContext, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiKeyVerifier, type ApiKeyFailureCode } from './ports/api-key-verifier.port.js';
import { PUBLIC_ROUTE, REQUIRED_SCOPES } from '../common/auth/scopes.decorator.js';
import type { AuthenticatedRequest, Principal } from '../common/context/operation-context.js';
import type { HotRequest } from '../common/http/hot-request.js';
import { DomainError } from '../common/errors/domain-error.js';
import { ErrorCode } from '../common/errors/error-code.js';
import { AppConfig } from '../config/app-config.js';
import { AuditService } from '../audit/index.js';
import { Clock } from '../common/time/clock.js';
import { MetricsRegistry } from '../common/metrics/metrics.registry.js';
import { authenticationRequired, insufficientScope, invalidCredentials, rateLimited } from './auth.errors.js';
import { readCredentials, type Credentials } from './credentials.js';
import { JwtVerifier } from './jwt.verifier.js';
import { clientOf, missingScopes, principalFromApiKey, principalFromJwt } from './principal.js';
import { ManagedCallerDirectory } from './ports/managed-caller-directory.port.js';

const API_KEY_FAILURES: Record<ApiKeyFailureCode, string> = {
  MALFORMED: 'The API key is malformed.',
  NOT_FOUND: 'The API key is not known.',
  EXPIRED: 'The API key has expired.',
  REVOKED: 'The API key has been revoked.',
  CLIENT_DISABLED: 'The service account of this API key is disabled.',
  INSUFFICIENT_SCOPE: 'The API key lacks a scope this route needs.',
  RATE_LIMITED: 'Too many requests with this API key.',
};

/**
 * The one guard in front of every route (registered as APP_GUARD). Public routes pass; every other
 * route must declare its scopes with `@RequireScopes` or it is refused (deny by default). The caller
 * authenticates with a Keycloak JWT or a Keysmith API key, and the resulting Principal (with the
 * owner it is confined to) is put on `request.principal` for controllers and audit.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger(AuthGuard.name);
  private readonly outcomes: Tally<'method' | 'outcome'>;
  /** The count of accepted callers per method, kept (see Tally.cell). */
  private readonly accepted: Record<'bearer' | 'api-key', TallyCell<'method' | 'outcome'>>;
  /**
   * The principal last made of a verified API key's identity or a verified token's claims (with
   * the managed account it was judged against): both are the same objects while nothing about the
   * caller changes (see ApiKeyVerificationService.identityOf and the verified-token cache), so a
   * caller's principal is made once, not on every request. Principals are frozen.
   */
  private readonly principals = new WeakMap<object, { managed: unknown; principal: Principal }>();
  /** Refusals audited per caller and code in the current minute (bounded, reset each minute). */
  private refusalWindow = { minute: -1, counts: new Map<string, number>() };

  constructor(
    private readonly reflector: Reflector,
    private readonly apiKeys: ApiKeyVerifier,
    private readonly callers: ManagedCallerDirectory,
    private readonly jwt: JwtVerifier,
    private readonly config: AppConfig,
    metrics: MetricsRegistry,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {
    this.outcomes = metrics.tally('keysmith_auth_requests_total', 'Authentication of Keysmith API calls by method and outcome', ['method', 'outcome']);
    this.accepted = { bearer: this.outcomes.cell({ method: 'bearer', outcome: 'ok' }), 'api-key': this.outcomes.cell({ method: 'api-key', outcome: 'ok' }) };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    return this.authorize(context.switchToHttp().getRequest<AuthenticatedRequest>(), [context.getHandler(), context.getClass()]);
  }

  /**
   * The guard's decision for a request to the route declared by `targets` (the controller method,
   * then its class): true, or the 401 / 403 / 429 DomainError. The hot-path routes, which bypass
   * Nest's guards, call it with their controller method.
   */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- Nest hands the guard a handler as Function.
  authorize(request: HotRequest, targets: Array<Function | Type>): Promise<boolean> {
    return this.authorizer(targets)?.(request) ?? Promise.resolve(true);
  }

  /**
   * `authorize` for one route, its metadata read once: the hot-path routes make theirs at start-up
   * instead of reading the decorators on every request. Undefined for a public route
   * (`@PublicRoute`), which every caller passes: a hot-path handler then awaits nothing (an await
   * costs a turn of the microtask queue even for a value).
   */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- Nest hands the guard a handler as Function.
  authorizer(targets: Array<Function | Type>): ((request: HotRequest) => Promise<boolean>) | undefined {
    if (this.isPublic(targets)) return undefined;
    const required = this.reflector.getAllAndOverride<string[] | undefined>(REQUIRED_SCOPES, targets) ?? [];
    return (request) => this.decide(request, required);
  }

  /** Is the route declared by `targets` public (`@PublicRoute`): no credential asked, every caller passes? */
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- Nest hands the guard a handler as Function.
  isPublic(targets: Array<Function | Type>): boolean {
    return this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets) === true;
  }

  private async decide(request: HotRequest, required: readonly string[]): Promise<boolean> {

    let method: Credentials['kind'] = 'none';
    let subject: string | null = null;
    try {
      const credentials = readCredentials(request.headers);
      method = credentials.kind;
      if (credentials.kind === 'none') throw authenticationRequired();
      const principal =
        credentials.kind === 'bearer' ? await this.fromJwt(credentials.token) : await this.fromApiKey(credentials.key, request.ip);
      request.principal = principal;
      subject = principal.subject;
      if (required.length === 0) {
        throw insufficientScope([], principal.scopes, 'This route declares no scopes, so it is refused for every caller (deny by default).');
      }
      if (missingScopes(principal, required).length > 0) throw insufficientScope([...required], principal.scopes);
      this.accepted[credentials.kind].inc();
      return true;
    } catch (error) {
      this.outcomes.inc({ method, outcome: error instanceof DomainError ? error.code.toLowerCase() : 'error' });
      if (error instanceof DomainError) await this.auditRefusal(request, error, subject ?? (error.extensions.client as string | undefined) ?? null);
      throw error;
    }
  }

  /**
   * Audits refusals of identified callers, `auth.refused`: a token whose client is not accepted,
   * and a valid credential without a scope the route needs. At most 5 a minute per caller and code,
   * so a misconfigured client cannot flood the log.
   */
  private async auditRefusal(request: HotRequest, error: DomainError, subject: string | null): Promise<void> {
    if (!subject || (error.code !== ErrorCode.InsufficientScope && error.code !== ErrorCode.InvalidCredentials)) return;
    const minute = Math.floor(this.clock.nowMs() / 60_000);
    if (this.refusalWindow.minute !== minute || this.refusalWindow.counts.size > 10_000) this.refusalWindow = { minute, counts: new Map() };
    const key = `${subject}|${error.code}`;
    const count = (this.refusalWindow.counts.get(key) ?? 0) + 1;
    this.refusalWindow.counts.set(key, count);
    if (count > 5) return;
    const principal = request.principal;
    try {
      await this.audit.record(
        { actor: { type: principal?.method ?? 'jwt', id: subject }, requestId: String(request.id), owner: principal?.owner ?? null, source: null, callerScopes: null },
        { action: 'auth.refused', outcome: 'failure', detail: { code: error.code, reason: error.detail, method: request.method, route: request.routeOptions?.url ?? null } },
      );
    } catch (failure) {
      this.logger.error({ err: failure }, 'could not record a refused request');
    }
  }

  private async fromJwt(token: string): Promise<Principal> {
    const payload = await this.jwt.verify(token);
    const realm = this.config.jwt.realm;
    const managed = await this.callers.findCaller(realm, clientOf(payload));
    return this.principalOf(payload, managed, () => principalFromJwt(payload, realm, this.config.auth, managed));
  }

  /** The principal of `source` judged against `managed`: made once while both stay the same objects (see `principals`). */
  private principalOf(source: object, managed: unknown, make: () => Principal): Principal {
    const known = this.principals.get(source);
    if (known !== undefined && known.managed === managed) return known.principal;
    const principal = make();
    Object.freeze(principal.scopes);
    this.principals.set(source, { managed, principal: Object.freeze(principal) });
    return principal;
  }

  private async fromApiKey(key: string, clientAddress: string): Promise<Principal> {
    // Scopes are checked here, not by the verifier, so a 403 can name what is required and provided.
    const result = await this.apiKeys.check(key, { clientAddress });
    if (result.valid) return this.principalOf(result.identity, null, () => principalFromApiKey(result.identity, this.config.auth));
    switch (result.code) {
      case 'RATE_LIMITED':
        throw rateLimited(result.retryAfterSeconds ?? 1);
      case 'INSUFFICIENT_SCOPE':
        if (result.identity) return principalFromApiKey(result.identity, this.config.auth);
        throw new DomainError(ErrorCode.InsufficientScope, API_KEY_FAILURES.INSUFFICIENT_SCOPE, { required: [], provided: [] });
      default:
        throw invalidCredentials(API_KEY_FAILURES[result.code] ?? 'The API key is not valid.');
    }
  }
}
