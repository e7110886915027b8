import type { Params } from 'nestjs-pino';
import type { ServerResponse } from 'node:http';
import type { DestinationStream } from 'pino';
import type { AppConfig } from '../../config/app-config.js';

/**
 * Paths pino removes from every log line. Request headers are not logged at all (see the
 * serializers); these paths catch secrets inside logged objects and errors.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.authorization',
  '*.clientSecret',
  '*.client_secret',
  '*.secret',
  '*.key',
  '*.apiKey',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.refreshToken',
  '*.password',
  '*.masterKey',
  '*.pepper',
  '*.hash',
  'clientSecret',
  'secret',
  'key',
  'token',
  'password',
];

/**
 * The application logger (nestjs-pino), with no per-request binding. Requests are logged once each
 * by AccessLog (one line per request, verification routes sampled); a line about a request names
 * it with `requestId` itself (the error filter, audit failures).
 *
 * nestjs-pino's request middleware (pino-http's child logger bound through AsyncLocalStorage) is
 * not bound to any route (`forRoutes: []`): on Node.js 20 an AsyncLocalStorage, once it has run,
 * keeps async hooks on for the whole process, so every promise anywhere pays for them (about a
 * millisecond more per Keycloak Admin call, measured; see keycloak-call-meter.ts).
 */
export function loggerOptions(config: AppConfig, stream?: DestinationStream): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      base: { service: 'keysmith' },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      serializers: {
        req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          // The path only: query strings are not logged in case a caller put a credential there.
          url: req.url?.split('?')[0],
          remoteAddress: req.remoteAddress,
        }),
        res: (res: ServerResponse & { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      ...(stream ? { stream } : {}),
    },
    forRoutes: [],
  };
}
