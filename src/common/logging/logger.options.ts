import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
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
 * The verification endpoints gateways call on every request. They are not access-logged unless
 * KEYSMITH_LOG_VERIFY_REQUESTS=true: at gateway volume a log line each costs more than the check
 * (the keysmith_http_request_duration_seconds histogram still counts them; failures are audited).
 */
const HOT_ROUTES = [
  { path: 'v1/api-keys/verify', method: RequestMethod.POST },
  { path: 'v1/auth/check', method: RequestMethod.GET },
];

export function loggerOptions(config: AppConfig, stream?: DestinationStream): Params {
  return {
    ...(config.logVerifyRequests ? {} : { exclude: HOT_ROUTES }),
    pinoHttp: {
      level: config.logLevel,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      // Fastify has made the id already (see request-id.ts); pino-http reuses it.
      genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? 'unknown',
      customProps: () => ({ service: 'keysmith' }),
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
      autoLogging: { ignore: (req: IncomingMessage) => req.url === '/metrics' || req.url === '/healthz' },
      ...(stream ? { stream } : {}),
    },
  };
}
