import { Controller, Get, Header, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiJson, responseSchema } from '../common/http/api-docs.js';
import { HealthCheckService, TypeOrmHealthIndicator, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Gauge } from 'prom-client';
import type { FastifyReply } from 'fastify';
import { PublicRoute } from '../common/auth/scopes.decorator.js';
import { MetricsRegistry } from '../common/metrics/metrics.registry.js';
import { KeycloakProbe, SecretRotationSupport } from './ports/readiness.port.js';

const indicators = z.record(z.string(), z.looseObject({ status: z.enum(['up', 'down', 'degraded']) }));
/** The readiness body: terminus' shape, with `degraded` for what limits Keysmith without stopping it from serving. */
const readinessSchema = z
  .object({
    status: z.enum(['ok', 'degraded', 'error', 'shutting_down']),
    info: indicators.optional(),
    error: indicators.optional(),
    details: indicators,
  })
  .meta({ title: 'Readiness' });

/** Liveness, readiness and Prometheus metrics; no credentials needed. */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly keycloak: KeycloakProbe,
    private readonly rotation: SecretRotationSupport,
    private readonly metrics: MetricsRegistry,
  ) {
    this.keycloakGauge = metrics.gauge('keysmith_keycloak_up', 'Whether Keycloak answered the last readiness check (1) or not (0)');
    this.rotationGauge = metrics.gauge('keysmith_secret_rotation_supported', 'Whether Keycloak keeps a grace window for rotated secrets in a realm (1) or not (0)', ['realm']);
  }

  private readonly keycloakGauge: Gauge;
  private readonly rotationGauge: Gauge<'realm'>;

  @Get('healthz')
  @PublicRoute()
  @ApiOperation({ summary: 'Liveness: the process is up' })
  @ApiJson(200, 'Up', z.object({ status: z.literal('ok') }))
  liveness() {
    return { status: 'ok' };
  }

  @Get('readyz')
  @PublicRoute()
  @ApiOperation({
    summary: 'Readiness: Keysmith can serve (the database is reachable); 503 only when it is not',
    description:
      'Key verification, forward-auth and the API read from the database, so readiness depends on it alone: a Keycloak outage must not ' +
      'take every API key down with it. Keycloak (`details.keycloak`) and secret rotation per realm (`details.secretRotation`: the Keycloak ' +
      'feature, the client policy, the executor\'s `expirationPeriodDays`, the accounts whose everyDays exceeds it) are reported with status ' +
      '`degraded` when unreachable or unsupported, and the top-level `status` is then `degraded`, still with 200. `GET /readyz/keycloak` ' +
      'is the probe that needs Keycloak.',
  })
  @ApiJson(200, 'Ready (`status` is `degraded` when Keycloak is unreachable or a realm lacks rotation support)', readinessSchema)
  @ApiResponse({ status: 503, description: 'Not ready: the database is unreachable (`error` names it)', content: { 'application/json': { schema: responseSchema(readinessSchema) } } })
  async readiness(@Res() reply: FastifyReply) {
    const [keycloak, rotation] = await Promise.all([this.keycloakCheck(), this.secretRotationCheck()]);
    try {
      const result = await this.health.check([() => this.database.pingCheck('database', { timeout: 2_000 })]);
      const details = { ...result.details, ...keycloak, ...rotation };
      const degraded = Object.values(details).some((indicator) => indicator.status === 'degraded');
      return reply.send({ status: degraded ? 'degraded' : 'ok', info: details, error: {}, details });
    } catch (error) {
      // Terminus reports "not ready" as an exception carrying the same details body.
      if (error instanceof ServiceUnavailableException) {
        const body = error.getResponse() as { details?: Record<string, unknown> };
        return reply.status(503).send({ ...body, details: { ...body.details, ...keycloak, ...rotation } });
      }
      throw error;
    }
  }

  @Get('readyz/keycloak')
  @PublicRoute()
  @ApiOperation({
    summary: 'Keycloak readiness: Keycloak answers (503 otherwise)',
    description: 'For monitoring, not for a readiness probe: key verification keeps working while Keycloak is down (see GET /readyz).',
  })
  @ApiJson(200, 'Keycloak answers', readinessSchema)
  @ApiResponse({ status: 503, description: 'Keycloak is unreachable', content: { 'application/json': { schema: responseSchema(readinessSchema) } } })
  async keycloakReadiness(@Res() reply: FastifyReply) {
    const details = await this.keycloakCheck();
    const up = details.keycloak.status === 'up';
    return reply.status(up ? 200 : 503).send({ status: up ? 'ok' : 'error', ...(up ? { info: details } : { error: details }), details });
  }

  @Get('metrics')
  @PublicRoute()
  @Header('cache-control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)' })
  @ApiResponse({ status: 200, description: 'Prometheus text format 0.0.4', content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } } })
  async metricsText(@Res() reply: FastifyReply) {
    const text = await this.metrics.registry.metrics();
    return reply.type(this.metrics.registry.contentType).send(text);
  }

  /**
   * Informational, never fails readiness: whether rotation keeps a grace window in each realm (as
   * checked at start-up), and whether Keycloak's executor would regenerate a secret before its
   * account's everyDays (`expirationPeriodOk`; the accounts are named per realm). `degraded` when a
   * realm lacks the feature or the policy.
   */
  private async secretRotationCheck(): Promise<HealthIndicatorResult<string, 'up' | 'degraded'>> {
    try {
      const realms = await this.rotation.report();
      if (Object.keys(realms).length === 0) return { secretRotation: { status: 'up', graceWindow: 'unknown' } };
      for (const [realm, support] of Object.entries(realms)) this.rotationGauge.set({ realm }, support.feature && support.policy ? 1 : 0);
      const graceWindow = Object.values(realms).every((realm) => realm.feature && realm.policy);
      const expirationPeriodOk = Object.values(realms).every((realm) => realm.accountsBeyondExpirationCount === 0);
      return { secretRotation: { status: graceWindow ? 'up' : 'degraded', graceWindow, expirationPeriodOk, realms } };
    } catch {
      return { secretRotation: { status: 'up', graceWindow: 'unknown' } };
    }
  }

  private async keycloakCheck(): Promise<HealthIndicatorResult<'keycloak', 'up' | 'degraded'>> {
    try {
      await this.keycloak.ping();
      this.keycloakGauge.set(1);
      return { keycloak: { status: 'up', url: this.keycloak.baseUrl } };
    } catch (error) {
      this.keycloakGauge.set(0);
      return { keycloak: { status: 'degraded', url: this.keycloak.baseUrl, message: (error as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable' } };
    }
  }
}
