import { Controller, Get, Header, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiJson, responseSchema } from '../common/http/api-docs.js';
import { HealthCheckService, TypeOrmHealthIndicator, type HealthIndicatorResult } from '@nestjs/terminus';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { PublicRoute } from '../common/auth/scopes.decorator.js';
import { MetricsRegistry } from '../common/metrics/metrics.registry.js';
import { KeycloakProbe, SecretRotationSupport } from './ports/readiness.port.js';

const indicators = z.record(z.string(), z.looseObject({ status: z.enum(['up', 'down']) }));
/** Terminus' health check result. */
const readinessSchema = z
  .object({ status: z.enum(['ok', 'error', 'shutting_down']), info: indicators.optional(), error: indicators.optional(), details: indicators })
  .meta({ title: 'Readiness' });

/** Liveness, readiness and Prometheus metrics; no credentials needed. */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly keycloak: KeycloakProbe,
    private readonly rotation: SecretRotationSupport,
    private readonly metrics: MetricsRegistry,
  ) {}

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
    summary: 'Readiness: the database and Keycloak are reachable (503 otherwise)',
    description:
      'The body also reports, without failing the probe, `details.secretRotation`: per managed realm the Keycloak feature, the ' +
      'client policy, the secret-rotation executor\'s `expirationPeriodDays` and the accounts whose everyDays exceeds it ' +
      '(`accountsBeyondExpiration`, `accountsBeyondExpirationCount`); `graceWindow` and `expirationPeriodOk` sum them up.',
  })
  @ApiJson(200, 'Ready', readinessSchema)
  @ApiResponse({ status: 503, description: 'Not ready: `error` names what is down', content: { 'application/json': { schema: responseSchema(readinessSchema) } } })
  async readiness(@Res() reply: FastifyReply) {
    try {
      const result = await this.health.check([() => this.database.pingCheck('database', { timeout: 2_000 }), () => this.keycloakCheck(), () => this.secretRotationCheck()]);
      return reply.send(result);
    } catch (error) {
      // Terminus reports "not ready" as an exception carrying the same details body.
      if (error instanceof ServiceUnavailableException) return reply.status(503).send(error.getResponse());
      throw error;
    }
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
   * account's everyDays (`expirationPeriodOk`; the accounts are named per realm).
   */
  private async secretRotationCheck(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('secretRotation');
    try {
      const realms = await this.rotation.report();
      if (Object.keys(realms).length === 0) return indicator.up({ graceWindow: 'unknown' });
      const graceWindow = Object.values(realms).every((realm) => realm.feature && realm.policy);
      const expirationPeriodOk = Object.values(realms).every((realm) => realm.accountsBeyondExpirationCount === 0);
      return indicator.up({ graceWindow, expirationPeriodOk, realms });
    } catch {
      return indicator.up({ graceWindow: 'unknown' });
    }
  }

  private async keycloakCheck(): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check('keycloak');
    try {
      await this.keycloak.ping();
      return indicator.up({ url: this.keycloak.baseUrl });
    } catch (error) {
      return indicator.down({ url: this.keycloak.baseUrl, message: (error as Error).name === 'TimeoutError' ? 'timed out' : 'unreachable' });
    }
  }
}
