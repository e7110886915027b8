import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import proxyAddr from '@fastify/proxy-addr';
import type { Principal } from '../context/operation-context.js';
import type { RouteMark } from './hot-path.js';
import type { HotReply, HotRequest } from './hot-request.js';
import { REQUEST_ID_HEADER } from './request-id.js';

/** What a lean route reads of the request body: a small JSON body, or none at all (forward-auth). */
export type LeanBody = 'json' | 'none';

/** Serves one request of a route if the lane takes it; false leaves it, untouched, to the hot Fastify instance. */
export type LeanServe = (request: IncomingMessage, response: ServerResponse, path: string) => boolean;

/** Runs a route's handler on a request whose body is read (see `hotPathRouteHandler`). */
export type LeanHandler = (request: HotRequest, reply: HotReply) => void;

export interface LeanLaneOptions {
  /** The app's request id generator (Fastify's `genReqId`). */
  genReqId: (raw: IncomingMessage) => string;
  /** The app's trusted proxies (Fastify's `trustProxy`), or false. */
  trustProxy: readonly string[] | false;
  /** Reads a JSON body, or throws the 400 that says why it cannot (the app's JSON parser). */
  parseJson: (text: string) => unknown;
  /** Answers an error thrown while reading the body, as the hot routes answer their errors. */
  answerError: (error: unknown, request: HotRequest, reply: HotReply) => void;
  /** What the app records of every answered request (access log, duration metric). */
  observe: (request: HotRequest, reply: HotReply, route: RouteMark) => void;
  /** Reports a fault past the answer (a failing observer, a second answer), which the caller never sees. */
  fault: (error: unknown, requestId: string) => void;
}

/** The largest body the lane reads; a larger one goes to Fastify, which enforces the app's body limit. */
export const LEAN_BODY_LIMIT = 64 * 1024;

const JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8']);
const CONTENT_LENGTH = /^\d{1,6}$/;

/**
 * The lean lane: serves the plainest requests of the hot-path routes straight from Node's HTTP
 * server, with no Fastify request, reply, hooks or content-type parsers in between. Fastify's share
 * of a bare verification is several microseconds, a fifth of what a gateway's check costs.
 *
 * The lane takes only requests whose every part it can read the way the hot Fastify instance
 * would, and hands anything else to that instance before reading a byte:
 * - a JSON route: `POST` with `Content-Type: application/json` (plain, or with charset=utf-8), a
 *   `Content-Length` of at most LEAN_BODY_LIMIT, no `Transfer-Encoding` or `Content-Encoding`;
 * - a bodyless route (forward-auth): any method but `HEAD`, and no body;
 * - in either, a path with no percent-encoding (Fastify's router decodes it).
 *
 * What it serves runs the same handler, guard, error answer and observer as the Fastify routes; its
 * request and reply (`HotRequest`, `HotReply`) are the part of Fastify's API that code uses, made
 * the same way: the request id from the app's generator, the address through the same trusted
 * proxies (@fastify/proxy-addr), the JSON body through the app's parser, the reply's content type
 * and length as Fastify sets them.
 */
export class LeanLane {
  private readonly address: (raw: IncomingMessage) => string;

  constructor(private readonly options: LeanLaneOptions) {
    const { trustProxy } = options;
    if (trustProxy === false) this.address = (raw) => raw.socket?.remoteAddress ?? '';
    else {
      const trusted = proxyAddr.compile([...trustProxy]);
      this.address = (raw) => proxyAddr(raw, trusted);
    }
  }

  /** The lane's server for one route: `handle` is the route's handler, `mark` its URL pattern and config. */
  route(mark: RouteMark, body: LeanBody, handle: LeanHandler): LeanServe {
    if (body === 'none') {
      return (raw, response, path) => {
        if (raw.method === 'HEAD' || hasBody(raw) || path.includes('%')) return false;
        handle(...this.exchange(raw, response, mark, undefined, performance.now()));
        return true;
      };
    }
    return (raw, response, path) => {
      if (raw.method !== 'POST' || !readsAsJson(raw) || path.includes('%')) return false;
      this.readJson(raw, response, mark, handle);
      return true;
    };
  }

  private readJson(raw: IncomingMessage, response: ServerResponse, mark: RouteMark, handle: LeanHandler): void {
    // The request's duration counts from here, its body's reading included (as Fastify's does).
    const started = performance.now();
    if (raw.headers['content-length'] === '0') {
      handle(...this.exchange(raw, response, mark, undefined, started));
      return;
    }
    // Bytes, decoded once at the end (a body mostly comes as one chunk): the same text as Fastify's
    // `setEncoding('utf8')` reading gives, malformed sequences included, for less work.
    const chunks: Buffer[] = [];
    let failed = false;
    raw.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
    });
    // An aborted request is answered by no one: its caller is gone (as with Fastify).
    raw.once('error', () => {
      failed = true;
    });
    raw.once('end', () => {
      if (failed) return;
      const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString('utf8');
      let body: unknown;
      try {
        // An empty body is no body (see explainingJsonParser).
        body = text.length === 0 ? undefined : this.options.parseJson(text);
      } catch (error) {
        const [request, reply] = this.exchange(raw, response, mark, undefined, started);
        // As Fastify answers a body it cannot parse: the connection is closed after the answer.
        reply.header(REQUEST_ID_HEADER, request.id).header('connection', 'close');
        this.options.answerError(error, request, reply);
        return;
      }
      handle(...this.exchange(raw, response, mark, body, started));
    });
  }

  private exchange(raw: IncomingMessage, response: ServerResponse, mark: RouteMark, body: unknown, started: number): [LeanRequest, LeanReply] {
    const request = new LeanRequest(raw, mark, this.options.genReqId(raw), this.address, body);
    return [request, new LeanReply(response, request, this.options, started)];
  }
}

/** Does the request carry a body (a length above zero, or chunks)? */
function hasBody(raw: IncomingMessage): boolean {
  const length = raw.headers['content-length'];
  return (length !== undefined && length !== '0') || raw.headers['transfer-encoding'] !== undefined;
}

/** Is the body a JSON text the lane reads as Fastify would: plain UTF-8, of a known and small length? */
function readsAsJson(raw: IncomingMessage): boolean {
  const { headers } = raw;
  const type = headers['content-type'];
  const length = headers['content-length'];
  return (
    type !== undefined &&
    JSON_TYPES.has(type.toLowerCase()) &&
    length !== undefined &&
    CONTENT_LENGTH.test(length) &&
    Number(length) <= LEAN_BODY_LIMIT &&
    headers['transfer-encoding'] === undefined &&
    headers['content-encoding'] === undefined
  );
}

class LeanRequest implements HotRequest {
  readonly method: string;
  readonly url: string;
  principal?: Principal;

  constructor(
    readonly raw: IncomingMessage,
    readonly routeOptions: RouteMark,
    readonly id: string,
    private readonly address: (raw: IncomingMessage) => string,
    readonly body: unknown,
  ) {
    this.method = raw.method ?? '';
    this.url = raw.url ?? '';
  }

  get headers(): IncomingMessage['headers'] {
    return this.raw.headers;
  }

  get ip(): string {
    return this.address(this.raw);
  }
}

class LeanReply implements HotReply {
  statusCode = 200;
  private fields: Record<string, string> = {};
  private sent = false;

  constructor(
    private readonly raw: ServerResponse,
    private readonly request: LeanRequest,
    private readonly options: LeanLaneOptions,
    private readonly started: number,
  ) {}

  get elapsedTime(): number {
    return performance.now() - this.started;
  }

  code(statusCode: number): this {
    this.statusCode = statusCode;
    return this;
  }

  status(statusCode: number): this {
    return this.code(statusCode);
  }

  header(name: string, value: string): this {
    this.fields[name.toLowerCase()] = value;
    return this;
  }

  headers(values: Record<string, string>): this {
    for (const name of Object.keys(values)) this.header(name, values[name]);
    return this;
  }

  type(contentType: string): this {
    this.fields['content-type'] = contentType;
    return this;
  }

  /** As Fastify's `send` with no hooks: a JSON media type gains charset=utf-8, and every body its length. */
  send(payload?: unknown): this {
    if (this.sent) {
      this.options.fault(new Error('A hot-path route answered a request twice; the second answer was dropped.'), this.request.id);
      return this;
    }
    if (payload instanceof Error) {
      // What the error answer itself threw (see hotPathRouteHandler): a bare 500.
      this.options.fault(payload, this.request.id);
      this.statusCode = 500;
      this.fields = { [REQUEST_ID_HEADER]: this.request.id };
      payload = undefined;
    }
    this.sent = true;
    const fields = this.fields;
    let body: string | Buffer | undefined;
    if (payload === undefined) {
      if (this.statusCode >= 200 && this.statusCode !== 204 && this.statusCode !== 304) fields['content-length'] = '0';
    } else {
      const type = fields['content-type'];
      if (Buffer.isBuffer(payload)) {
        body = payload;
        fields['content-type'] = type ?? 'application/octet-stream';
      } else if (typeof payload === 'string' && type === undefined) {
        body = payload;
        fields['content-type'] = 'text/plain; charset=utf-8';
      } else {
        body = typeof payload === 'string' ? payload : JSON.stringify(payload);
        if (type === undefined) fields['content-type'] = 'application/json; charset=utf-8';
        else fields['content-type'] = withJsonCharset(type);
      }
      fields['content-length'] = String(Buffer.byteLength(body));
    }
    try {
      this.raw.writeHead(this.statusCode, fields);
    } catch (error) {
      // Node refused a header (a character a header may not hold) and wrote nothing: the handler's
      // error answer then answers it, as Fastify's does.
      this.sent = false;
      this.fields = { [REQUEST_ID_HEADER]: this.request.id };
      throw error;
    }
    this.raw.end(body);
    // As Fastify's response hook, which runs once the answer is written: not for a caller already gone.
    if (this.raw.destroyed) return this;
    try {
      this.options.observe(this.request, this, this.request.routeOptions);
    } catch (error) {
      this.options.fault(error, this.request.id);
    }
    return this;
  }
}

/** Content types as sent, by the type a route set: few, and the same on every request. */
const SENT_TYPES = new Map<string, string>();

/** The content type Fastify sends for `contentType`: a JSON media type without a charset gains charset=utf-8. */
function withJsonCharset(contentType: string): string {
  let sent = SENT_TYPES.get(contentType);
  if (sent === undefined) {
    const [media, ...parameters] = contentType.toLowerCase().split(';');
    const json = media.includes('json') && !parameters.some((parameter) => parameter.trim().startsWith('charset='));
    sent = json ? `${contentType}; charset=utf-8` : contentType;
    if (SENT_TYPES.size < 64) SENT_TYPES.set(contentType, sent);
  }
  return sent;
}
