import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { Logger as NestLogger } from '@nestjs/common';
import { Logger } from 'nestjs-pino';
import { ApiKeyVerificationService, documentForwardAuth, FORWARD_AUTH_PATH, ignoreForwardAuthBodies } from './api-keys/index.js';
import { AccessLog } from './common/logging/access-log.js';
import { AppConfig } from './config/app-config.js';
import { ErrorCode } from './common/errors/error-code.js';
import { PROBLEM_CONTENT_TYPE, problemFor, ProblemDetailsFilter, statusOf } from './common/errors/problem-details.filter.js';
import { noteForAccessLog } from './common/logging/access-log.js';
import { hotPathName, serveHotPaths, type RouteMark } from './common/http/hot-path.js';
import type { HotReply, HotRequest } from './common/http/hot-request.js';
import { explainingJsonParser } from './common/http/json-body.js';
import { completeOpenApiDocument } from './common/http/openapi-document.js';
import { hotPathHandlers, openHotDoor } from './app.hot-paths.js';
import { attachHotDoor, HotDoor, hotDoorOf } from './common/http/hot-door.js';
import { requestIdFor, REQUEST_ID_HEADER } from './common/http/request-id.js';
import { MetricsRegistry } from './common/metrics/metrics.registry.js';
import { AUTH_EXCHANGE_PATH, documentAuthExchange, limitTokenRequestBodies, TokenExchangeController } from './token-exchange/index.js';

/** Forward-auth routes: whatever body a gateway forwards is ignored. */
const BODYLESS_PATHS = [FORWARD_AUTH_PATH, AUTH_EXCHANGE_PATH];

/** Fastify's default: longer path parameters are answered 414. */
const MAX_PARAM_LENGTH = 100;

/**
 * The HTTP adapter. `trustedProxies` (KEYSMITH_TRUSTED_PROXIES) go to Fastify's `trustProxy`, which
 * resolves `request.ip` with proxy-addr: X-Forwarded-For is read right to left, trusted hops are
 * skipped, and the header is ignored altogether when the peer itself is not trusted.
 */
export function createFastifyAdapter(trustedProxies: readonly string[] = []): FastifyAdapter {
  const options = {
    genReqId: requestIdFor,
    bodyLimit: 5 * 1024 * 1024,
    // Fastify's own request logging is off: nestjs-pino logs each request once, redacted.
    logger: false,
    trustProxy: trustedProxies.length > 0 ? [...trustedProxies] : false,
    // Errors Fastify answers before any route (an over-long path parameter, a bad URL) are problem+json too.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const code = error.statusCode === 414 ? ErrorCode.UriTooLong : error.statusCode === 400 ? ErrorCode.MalformedRequest : ErrorCode.Internal;
      const detail = code === ErrorCode.UriTooLong ? `A path parameter is longer than ${MAX_PARAM_LENGTH} characters.` : 'The request URL could not be read.';
      const body = problemFor(code, detail, String(request.id));
      noteForAccessLog(request, { code });
      void reply.code(body.status).type(PROBLEM_CONTENT_TYPE).header(REQUEST_ID_HEADER, request.id).send(body);
    },
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  } satisfies FastifyServerOptions;
  // The verification routes are served past Nest's per-request hooks (see hot-door.ts and configureApp).
  const door = new HotDoor(options);
  const adapter = new FastifyAdapter({ ...options, serverFactory: door.serverFactory() });
  attachHotDoor(adapter, door);
  return adapter;
}

const API_DESCRIPTION = `Keysmith provisions Keycloak service-account clients and issues, verifies, rotates and revokes
API keys linked to them.

**Authentication.** Every \`/v1\` route needs exactly one credential: either \`Authorization: Bearer <JWT>\`, an
access token of the configured Keycloak realm (asymmetric signature checked against the realm's JWKS, \`iss\`, \`aud\`
containing \`keysmith\` by default, \`exp\`/\`nbf\`), or \`X-API-Key: <Keysmith key>\`. Scopes come from the token's
\`scope\` claim or the key's scopes; each route lists the scopes it needs under \`x-required-scopes\`.
\`/v1/auth/check\` (forward-auth: any method, any path below it) needs only the key it checks; \`/healthz\`, \`/readyz\` and \`/metrics\` are open.

| situation | status and code |
|---|---|
| no credential | 401 \`AUTHENTICATION_REQUIRED\`, \`WWW-Authenticate: Bearer realm="keysmith"\` |
| bad, expired or revoked credential | 401 \`INVALID_CREDENTIALS\`, \`WWW-Authenticate\` with \`error="invalid_token"\` (RFC 6750) |
| both headers, or a header that cannot be read | 400 \`AMBIGUOUS_CREDENTIALS\` / \`MALFORMED_CREDENTIALS\` |
| a required scope missing | 403 \`INSUFFICIENT_SCOPE\` with \`required\` and \`provided\` |
| too many requests with one key | 429 \`RATE_LIMITED\` with \`Retry-After\` |

A caller whose token carries an owner claim (\`keysmith_owner\` by default), or whose key belongs to a service
account with an owner, sees and changes only that owner's service accounts and keys; others answer 404. The
admin scope (\`keysmith:admin\` by default) lifts that boundary.

**Errors** are RFC 9457 \`application/problem+json\` with a stable \`code\` and the \`requestId\`; validation errors
list each bad field in \`errors\`. A JSON body that cannot be read is 400 \`MALFORMED_REQUEST\`, whose \`detail\` says
why: where the syntax breaks (a character position, never the body's text), or a forbidden property name
(\`__proto__\`, or \`constructor\` holding \`prototype\`). An empty body sent as JSON is read as no body.

**Paging.** Lists take \`limit\` (1-500, default 50) and an opaque \`cursor\`, and answer \`{ items, nextCursor }\`.`;

export function buildOpenApiDocument(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Keysmith')
    .setDescription(API_DESCRIPTION)
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, 'apiKey')
    .setOpenAPIVersion('3.1.0')
    .build();
  return completeOpenApiDocument(documentAuthExchange(documentForwardAuth(SwaggerModule.createDocument(app, config))));
}

/** The per-request hooks, added to the app's instance and the hot door's (see `requestObserver`). */
interface RequestObserver {
  /** The request-id header on every answer (an `onSend` hook); hot-path handlers set it themselves. */
  stampRequestId(instance: FastifyInstance): void;
  /** One access-log line (sampled on the verification routes) and one duration observation per request. */
  recordResponses(instance: FastifyInstance): void;
  /** What `recordResponses` does for one answered request of `route` (the hot door's routes call it from their own hook). */
  recordResponse(request: HotRequest, reply: HotReply, route: RouteMark): void;
}

function requestObserver(app: NestFastifyApplication): RequestObserver {
  const duration = app
    .get(MetricsRegistry)
    .histogramTally('keysmith_http_request_duration_seconds', 'HTTP request duration by method, route and status', ['method', 'route', 'status'], [
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    ]);
  const accessLog = app.get(AccessLog);
  const recordResponse = (request: HotRequest, reply: HotReply, route: RouteMark): void => {
    accessLog.record(request, reply, route);
    duration.observe({ method: request.method, route: route.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  };
  // Callback hooks, not async ones: they run on every request, and need no promise.
  return {
    stampRequestId: (instance) =>
      instance.addHook('onSend', (request, reply, payload, done) => {
        reply.header(REQUEST_ID_HEADER, request.id);
        done(null, payload);
      }),
    recordResponses: (instance) =>
      instance.addHook('onResponse', (request, reply, done) => {
        recordResponse(request, reply, request.routeOptions);
        done();
      }),
    recordResponse,
  };
}

/**
 * Everything an app instance needs beyond its modules: logger, error filter, request ids,
 * HTTP metrics, OpenAPI. Shared by main.ts and the e2e harness so tests run the real set-up.
 */
export async function configureApp(app: NestFastifyApplication): Promise<NestFastifyApplication> {
  app.useLogger(app.get(Logger));
  app.flushLogs();
  // The token endpoint answers every error in OAuth's format (RFC 6749 section 5.2), also those
  // found before its handler runs (a body that does not parse, another media type).
  const problems = new ProblemDetailsFilter((error, request) => {
    const status = statusOf(error);
    return status !== undefined && status >= 400 && status < 500 && hotPathName(request.routeOptions) === 'token' ? TokenExchangeController.answerUnreadable : undefined;
  });
  app.useGlobalFilters(problems);
  app.enableShutdownHooks();

  const fastify = app.getHttpAdapter().getInstance();
  const handlers = hotPathHandlers(app);
  const answerError = (error: unknown, request: HotRequest, reply: HotReply) => problems.answer(error, request, reply);
  const hotRoutes = serveHotPaths(fastify, handlers, answerError);
  const observer = requestObserver(app);
  observer.stampRequestId(fastify);
  observer.recordResponses(fastify);
  ignoreForwardAuthBodies(fastify, BODYLESS_PATHS);
  limitTokenRequestBodies(fastify);
  // Nest's JSON parser says only "not valid JSON"; this one says why (the hot instance uses it too).
  app.useBodyParser('application/json', {}, explainingJsonParser());

  for (const deprecation of app.get(AppConfig).deprecations) new NestLogger('Config').warn(deprecation);

  const document = buildOpenApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
  await app.init();
  const door = hotDoorOf(app.getHttpAdapter());
  if (door) {
    const hotPathLogger = new NestLogger('HotPath');
    await openHotDoor(door, fastify, {
      routes: hotRoutes,
      handlers,
      answerError,
      observe: observer.recordResponse,
      fault: (error, requestId) => hotPathLogger.error({ err: error, requestId }, 'A hot-path request failed after its answer was sent'),
      bodylessPaths: BODYLESS_PATHS,
    });
  }
  // Serving HTTP: every live key is loaded into memory in the background (the CLI never loads it).
  app.get(ApiKeyVerificationService).startIndex();
  return app;
}
