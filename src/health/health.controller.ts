import { Controller, Get, Header, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, TypeOrmHealthIndicator, type HealthIndicatorResult } from '@nestjs/terminus';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { PublicRoute } from '../common/auth/scopes.decorator.js';
import { MetricsRegistry } from '../common/metrics/metrics.registry.js';
import { KeycloakProbe, SecretRotationSupport } from './ports/readiness.port.js';

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
  liveness() {
    return { status: 'ok' };
  }

  @Get('readyz')
  @PublicRoute()
  @ApiOperation({ summary: 'Readiness: the database and Keycloak are reachable (503 otherwise)' })
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
  async metricsText(@Res() reply: FastifyReply) {
    const text = await this.metrics.registry.metrics();
    return reply.type(this.metrics.registry.contentType).send(text);
  }

  /** Informational: whether rotation keeps a grace window in each realm (as checked at start-up). Never fails readiness. */
  private secretRotationCheck(): HealthIndicatorResult {
    const indicator = this.indicators.check('secretRotation');
    const realms = this.rotation.knownSupport();
    if (Object.keys(realms).length === 0) return indicator.up({ graceWindow: 'unknown' });
    const graceWindow = Object.values(realms).every((support) => support.feature && support.policy);
    return indicator.up({ graceWindow, realms });
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
