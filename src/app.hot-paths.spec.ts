import { jest } from '@jest/globals';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { openHotDoor } from './app.hot-paths.js';
import { DomainError } from './common/errors/domain-error.js';
import { ErrorCode } from './common/errors/error-code.js';
import { ProblemDetailsFilter } from './common/errors/problem-details.filter.js';
import { HotDoor } from './common/http/hot-door.js';
import type { HotPathHandler } from './common/http/hot-path.js';
import type { HotReply, HotRequest } from './common/http/hot-request.js';
import { LEAN_BODY_LIMIT } from './common/http/lean-lane.js';
import { requestIdFor } from './common/http/request-id.js';

/**
 * The hot door as configureApp opens it, with stand-in handlers: the lean lane must answer every
 * request it takes exactly as the hot Fastify instance answers the same request, and leave to that
 * instance every request it cannot read the same way.
 */
interface Observed {
  lane: 'lean' | 'fastify';
  requestId: string;
  status: number;
  route: string | undefined;
  elapsedMs: number;
}

let app: FastifyInstance;
let base: { host: string; port: number };
let observed: Observed[] = [];
let faults: unknown[] = [];
let failObserver = false;

/** What the stand-in handler does, chosen by the request's X-Behave header. */
async function behave(request: HotRequest, reply: HotReply): Promise<void> {
  const seen = { body: request.body ?? null, ip: request.ip, method: request.method, url: request.url, route: request.routeOptions.url };
  switch (request.headers['x-behave']) {
    case 'text':
      void reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(seen));
      return;
    case 'object':
      void reply.code(201).send(seen);
      return;
    case 'empty':
      void reply.code(200).headers({ 'X-Auth-Client-Id': 'svc-a', 'x-auth-scopes': 'read write' }).send();
      return;
    case 'refused':
      throw new DomainError(ErrorCode.RateLimited, 'Too many requests.', { retryAfterSeconds: 3 }, { 'Retry-After': '3' });
    case 'crash':
      throw new Error('an unexpected failure');
    case 'bad-header':
      void reply.code(200).header('x-auth-client-id', 'a\nb').send();
      return;
    case 'slow':
      await new Promise((resolve) => setTimeout(resolve, 100));
      void reply.code(200).send();
      return;
    case 'twice':
      void reply.code(200).send();
      void reply.code(200).send();
      return;
    default:
      void reply.code(200).type('text/plain').send('plain');
  }
}

beforeAll(async () => {
  const options: FastifyServerOptions = { genReqId: requestIdFor, trustProxy: ['127.0.0.1'], logger: false, forceCloseConnections: true };
  const door = new HotDoor(options);
  app = Fastify({ ...options, serverFactory: door.serverFactory() });
  app.all('/*', async () => 'main');
  const handlers: Record<string, HotPathHandler> = { 'api-keys.verify': behave, 'auth.check': behave, token: behave };
  const problems = new ProblemDetailsFilter();
  await openHotDoor(door, app, {
    routes: [
      { name: 'api-keys.verify', url: '/verify', methods: ['POST'] },
      // As Nest registers @All: QUERY among them.
      { name: 'auth.check', url: '/check', methods: ['GET', 'HEAD', 'POST', 'DELETE', 'QUERY'] },
      { name: 'auth.check', url: '/check/*', methods: ['GET', 'HEAD', 'POST', 'DELETE', 'QUERY'] },
      { name: 'token', url: '/token', methods: ['POST'] },
    ],
    handlers,
    answerError: (error, request, reply) => problems.answer(error, request, reply),
    observe: (request, reply, route) => {
      // Fastify's request carries a logger; the lane's does not.
      observed.push({ lane: 'log' in request ? 'fastify' : 'lean', requestId: request.id, status: reply.statusCode, route: route.url, elapsedMs: reply.elapsedTime });
      if (failObserver) throw new Error('the observer failed');
    },
    fault: (error) => faults.push(error),
    bodylessPaths: ['/check'],
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as AddressInfo;
  base = { host: '127.0.0.1', port: address.port };
});

afterAll(() => app.close());

beforeEach(() => {
  observed = [];
  faults = [];
  failObserver = false;
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A request with exactly the given headers and body bytes (fetch would add or change some). A
 * function in the body's list is awaited before the next chunk is sent.
 */
function send(method: string, path: string, headers: OutgoingHttpHeaders, body?: string | Array<string | (() => Promise<void>)>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ ...base, method, path, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const { date: _date, ...rest } = response.headers;
        resolve({ status: response.statusCode ?? 0, headers: rest, body: text });
      });
    });
    outgoing.on('error', reject);
    // A list is sent as that many chunks (without a Content-Length, with Transfer-Encoding: chunked).
    const chunks = Array.isArray(body) ? body : body === undefined ? [] : [body];
    void (async () => {
      for (const chunk of chunks) {
        if (typeof chunk === 'function') await chunk();
        else outgoing.write(chunk);
      }
      outgoing.end();
    })();
  });
}

function json(behaviour: string, id: string, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  return { 'content-type': 'application/json', 'x-behave': behaviour, 'x-request-id': id, ...extra };
}

function lanes(): string[] {
  return observed.map((entry) => entry.lane);
}

describe('the lean lane of the hot door', () => {
  it.each(['text', 'object', 'empty', 'refused', 'crash', 'plain'])(
    'answers a JSON request (%s) as the hot Fastify instance answers the same request sent in chunks',
    async (behaviour) => {
      const body = JSON.stringify({ key: 'sk_test_abc', requiredScopes: ['read'] });
      const lean = await send('POST', '/verify?x=1', { ...json(behaviour, 'req-1'), 'content-length': Buffer.byteLength(body) }, body);
      const chunked = await send('POST', '/verify?x=1', json(behaviour, 'req-1'), [body.slice(0, 5), body.slice(5)]);
      expect(lanes()).toEqual(['lean', 'fastify']);
      expect(lean).toEqual(chunked);
      expect(lean.headers['x-request-id']).toBe('req-1');
      if (behaviour === 'object') expect(JSON.parse(lean.body)).toEqual({ body: { key: 'sk_test_abc', requiredScopes: ['read'] }, ip: '127.0.0.1', method: 'POST', url: '/verify?x=1', route: '/verify' });
    },
  );

  it.each([
    ['syntax', '{"key": "sk_test_abc" "x"}'],
    ['forbidden name', '{"__proto__": {"admin": true}}'],
    ['empty', ''],
  ])('answers a body it cannot read (%s) as the hot Fastify instance does', async (_case, body) => {
    const lean = await send('POST', '/verify', { ...json('object', 'req-2'), 'content-length': Buffer.byteLength(body) }, body);
    const chunked = await send('POST', '/verify', json('object', 'req-2', { 'transfer-encoding': 'chunked' }), body === '' ? [] : [body]);
    expect(lean).toEqual(chunked);
    expect(lean.status).toBe(body === '' ? 201 : 400);
    expect(observed.map((entry) => [entry.lane, entry.status])).toEqual([
      ['lean', lean.status],
      ['fastify', lean.status],
    ]);
  });

  it('answers forward-auth without a body as the hot Fastify instance answers the same path percent-encoded', async () => {
    for (const behaviour of ['empty', 'refused', 'plain']) {
      const lean = await send('GET', '/check/orders/A?q=%20', { 'x-behave': behaviour, 'x-request-id': 'req-3' });
      const encoded = await send('GET', '/check/orders/%41?q=%20', { 'x-behave': behaviour, 'x-request-id': 'req-3' });
      expect(lean).toEqual(encoded);
    }
    const exact = await send('DELETE', '/check', { 'x-behave': 'empty' });
    expect(exact.status).toBe(200);
    expect(exact.headers).toMatchObject({ 'x-auth-client-id': 'svc-a', 'x-auth-scopes': 'read write', 'content-length': '0' });
    expect(lanes()).toEqual(['lean', 'fastify', 'lean', 'fastify', 'lean', 'fastify', 'lean']);
  });

  it('answers forward-auth with the QUERY method, with or without a body, as it answers GET', async () => {
    const get = await send('GET', '/check/orders', { 'x-behave': 'empty', 'x-request-id': 'req-q' });
    const lean = await send('QUERY', '/check/orders', { 'x-behave': 'empty', 'x-request-id': 'req-q' });
    const encoded = await send('QUERY', '/check/%6Frders', { 'x-behave': 'empty', 'x-request-id': 'req-q' });
    const body = '{"select":"*"}';
    const withBody = await send('QUERY', '/check/orders', { 'x-behave': 'empty', 'x-request-id': 'req-q', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, body);
    for (const answer of [lean, encoded, withBody]) expect(answer).toEqual(get);
    expect(get.status).toBe(200);
    expect(lanes()).toEqual(['lean', 'lean', 'fastify', 'fastify']);
  });

  it('records no answer to a caller that left before it, as Fastify records none', async () => {
    for (const path of ['/check/orders', '/check/%6Frders']) {
      const socket = connect(base.port, base.host);
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Behave: slow\r\n\r\n`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.destroy();
      // The handler answers after 100 ms, to no one.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(observed).toEqual([]);
    expect(faults).toEqual([]);
    // A caller that waits is recorded, on either path.
    await send('GET', '/check/orders', { 'x-behave': 'slow' });
    await send('GET', '/check/%6Frders', { 'x-behave': 'slow' });
    expect(lanes()).toEqual(['lean', 'fastify']);
  });

  it("counts a request's duration from its arrival, the reading of its body included", async () => {
    // A clock this test moves: 80 ms pass once the server has the request, before the body's second
    // half is sent, and none anywhere else. Counted from the end of the body, the duration would be 0.
    let clock = 0;
    const now = jest.spyOn(performance, 'now').mockImplementation(() => clock);
    try {
      // Runs before the server's own listener, in the same emit: the lane has taken the request when this settles.
      const arrived = new Promise<void>((resolve) => app.server.prependOnceListener('request', () => resolve()));
      const body = JSON.stringify({ key: 'sk_test_abc' });
      const halfway = async () => {
        await arrived;
        clock += 80;
      };
      const answer = await send('POST', '/verify', { ...json('empty', 'req-5'), 'content-length': Buffer.byteLength(body) }, [body.slice(0, 4), halfway, body.slice(4)]);
      expect(answer.status).toBe(200);
      expect(observed).toEqual([expect.objectContaining({ lane: 'lean', requestId: 'req-5', elapsedMs: 80 })]);
    } finally {
      now.mockRestore();
    }
  });

  it('resolves the caller address through the trusted proxies, as Fastify does', async () => {
    const headers = { 'x-behave': 'text', 'x-forwarded-for': '203.0.113.9, 198.51.100.7' };
    const lean = JSON.parse((await send('GET', '/check', headers)).body) as { ip: string };
    const fastify = JSON.parse((await send('GET', '/check/%41', headers)).body) as { ip: string };
    expect(lean.ip).toBe('198.51.100.7');
    expect(fastify.ip).toBe(lean.ip);
  });

  it('makes a request id where none is given or the given one is not plain, as the app does', async () => {
    const made = await send('GET', '/check', { 'x-behave': 'empty' });
    const refused = await send('GET', '/check', { 'x-behave': 'empty', 'x-request-id': 'not plain' });
    for (const answer of [made, refused]) expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(observed.map((entry) => entry.requestId)).toEqual([made.headers['x-request-id'], refused.headers['x-request-id']]);
  });

  it('leaves to the hot Fastify instance every request it cannot read as that instance would', async () => {
    const body = JSON.stringify({ key: 'k' });
    const big = JSON.stringify({ key: 'k', pad: 'x'.repeat(LEAN_BODY_LIMIT) });
    const cases: Array<[string, string, OutgoingHttpHeaders, string?]> = [
      ['POST', '/verify', { 'content-type': 'application/json; charset=latin1', 'content-length': Buffer.byteLength(body) }, body],
      ['POST', '/verify', { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) }, body],
      ['POST', '/verify', { 'content-type': 'application/json', 'content-encoding': 'identity', 'content-length': Buffer.byteLength(body) }, body],
      ['POST', '/verify', { 'content-type': 'application/json', 'content-length': Buffer.byteLength(big) }, big],
      ['POST', '/verify', {}],
      ['HEAD', '/check', {}],
      ['POST', '/check', { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, body],
      ['POST', '/token', { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, body],
    ];
    for (const [method, path, headers, payload] of cases) await send(method, path, { 'x-behave': 'empty', ...headers }, payload);
    expect(lanes()).toEqual(cases.map(() => 'fastify'));
  });

  it('answers 500 problem+json when Node refuses a header the handler set', async () => {
    // (The hot Fastify instance answers such a reply never: its error answer sends the same header again.)
    const answer = await send('GET', '/check', { 'x-behave': 'bad-header', 'x-request-id': 'req-4' });
    expect(answer.status).toBe(500);
    expect(answer.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(answer.headers['x-auth-client-id']).toBeUndefined();
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'INTERNAL', requestId: 'req-4' });
  });

  it('still answers when the observer fails, and reports the failure', async () => {
    failObserver = true;
    const answer = await send('GET', '/check', { 'x-behave': 'empty' });
    expect(answer.status).toBe(200);
    expect(faults).toEqual([expect.objectContaining({ message: 'the observer failed' })]);
  });

  it('drops and reports a second answer to one request', async () => {
    const answer = await send('GET', '/check', { 'x-behave': 'twice' });
    expect(answer.status).toBe(200);
    expect(faults).toEqual([expect.objectContaining({ message: expect.stringContaining('answered a request twice') })]);
  });

  it('serves only the door routes: another path goes to the app instance', async () => {
    const answer = await send('GET', '/elsewhere', {});
    expect(answer.body).toBe('main');
    expect(observed).toEqual([]);
  });
});
