import { Inject, Injectable } from '@nestjs/common';
import { pino, type DestinationStream, type Logger } from 'pino';
import { AppConfig } from '../../config/app-config.js';
import { isHotPath, type RouteMark } from '../http/hot-path.js';
import type { HotReply, HotRequest } from '../http/hot-request.js';
import { Random } from '../random/random.js';
import { REDACT_PATHS } from './logger.options.js';

/** The stream every Keysmith log line goes to (stdout in production, a capture in tests). */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/** Routes not worth a log line each: probes and scrapes. */
const QUIET_ROUTES = new Set(['/healthz', '/metrics']);

/** What a handler or the error filter adds to the request's access-log line. */
export interface AccessLogNote {
  /** The problem code of an error answer. */
  code?: string;
  /** The verdict of a verification answered 200, such as NOT_FOUND; makes the line a failure. */
  verdict?: string;
}

const NOTES = new WeakMap<object, AccessLogNote>();
const NO_NOTE: AccessLogNote = Object.freeze({});

/** Adds to the access-log line of `request` (the raw Node request is the key Fastify's hooks share). */
export function noteForAccessLog(request: Pick<HotRequest, 'raw'>, note: AccessLogNote): void {
  const key: object = request.raw ?? request;
  NOTES.set(key, { ...NOTES.get(key), ...note });
}

/**
 * One structured line per request: method, route pattern (never the raw URL, which may carry ids
 * or a query string with a credential), status, duration, request id and the authenticated
 * actor. Successful verifications (the routes marked `@HotPath`: key verification, forward auth,
 * token exchange and phantom tokens, which gateways call on every request) are logged at
 * KEYSMITH_LOG_VERIFY_SAMPLE_RATE; failures always.
 */
@Injectable()
export class AccessLog {
  private readonly logger: Logger;

  constructor(
    private readonly config: AppConfig,
    private readonly random: Random,
    @Inject(LOG_DESTINATION) destination: DestinationStream,
  ) {
    this.logger = pino(
      { level: config.logLevel, base: { service: 'keysmith', context: 'AccessLog' }, redact: { paths: REDACT_PATHS, censor: '[REDACTED]' } },
      destination,
    );
  }

  /** `routeOptions`: the request's route, read once by the caller (see RouteMark). */
  record(request: HotRequest, reply: HotReply, routeOptions: RouteMark): void {
    const route = routeOptions.url ?? 'unmatched';
    if (QUIET_ROUTES.has(route)) return;
    const status = reply.statusCode;
    const note = NOTES.get(request.raw) ?? NO_NOTE;
    const failed = status >= 400 || note.verdict !== undefined;
    if (!failed && isHotPath(routeOptions) && !(this.random.fraction() < this.config.logVerifySampleRate)) return;
    const principal = request.principal;
    const line = {
      requestId: String(request.id),
      method: request.method,
      route,
      status,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
      actor: principal ? { type: principal.method, id: principal.subject } : { type: 'anonymous', id: null },
      ...(note.code ? { code: note.code } : {}),
      ...(note.verdict ? { verdict: note.verdict } : {}),
    };
    const message = `${request.method} ${route} ${status}`;
    if (status >= 500) this.logger.error(line, message);
    else this.logger.info(line, message);
  }
}
