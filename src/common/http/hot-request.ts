import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Principal } from '../context/operation-context.js';
import type { RouteMark } from './hot-path.js';

/**
 * What the hot-path code (the verification routes' handlers, the guard, the error answer and the
 * access log) reads of a request. Fastify's request has all of it, and so has the lean lane's (see
 * lean-lane.ts), which serves the plainest verification requests without Fastify: code on the hot
 * path takes this type, so it cannot reach for a part of Fastify's request the lane does not have.
 */
export interface HotRequest {
  readonly id: string;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The caller's address, X-Forwarded-For resolved through the trusted proxies (KEYSMITH_TRUSTED_PROXIES). */
  readonly ip: string;
  readonly raw: IncomingMessage;
  readonly body?: unknown;
  /** The matched route: its URL pattern and config (with the `@HotPath` mark). */
  readonly routeOptions: RouteMark;
  /** The authenticated caller, put there by the auth guard. */
  principal?: Principal;
}

/** What the hot-path code does with a reply: Fastify's reply API, the part the lean lane has too. */
export interface HotReply {
  readonly statusCode: number;
  /** Milliseconds since the request came in. */
  readonly elapsedTime: number;
  code(statusCode: number): HotReply;
  status(statusCode: number): HotReply;
  header(name: string, value: string): HotReply;
  headers(values: Record<string, string>): HotReply;
  type(contentType: string): HotReply;
  /** Sends the answer: no body, a string as it is, or an object as JSON. */
  send(payload?: unknown): HotReply;
}
