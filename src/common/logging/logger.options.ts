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
 * The application logger (nestjs-pino). Requests are logged once each by AccessLog (one line per
 * request, verification routes sampled), not by pino-http, which only binds the request id to
 * lines logged while a request is handled.
 */
export function loggerOptions(config: AppConfig, stream?: DestinationStream): Params {
  return {
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
      autoLogging: false,
      ...(stream ? { stream } : {}),
    },
    // The verification routes gateways call on every request skip the per-request child logger:
    // they log nothing of their own on success (AccessLog samples them) and it was a visible share
    // of their CPU time.
    exclude: [
      { path: 'v1/api-keys/verify', method: RequestMethod.POST },
      { path: 'v1/token', method: RequestMethod.POST },
      ...['v1/auth/check', 'v1/auth/exchange'].flatMap((path) => [
        { path, method: RequestMethod.ALL },
        { path: `${path}/{*rest}`, method: RequestMethod.ALL },
      ]),
    ],
  };
}
