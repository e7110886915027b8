import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { HOT_PATH, serveHotPaths, type HotPathErrorAnswer, type HotPathHandler } from './hot-path.js';

/** A Fastify instance with one marked route (as Nest registers `@HotPath('hot')`) and one plain route. */
let open: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(open.map((fastify) => fastify.close()));
  open = [];
});

async function serverWith(handlers: Record<string, HotPathHandler>, answerError: HotPathErrorAnswer): Promise<FastifyInstance> {
  const fastify = Fastify({ forceCloseConnections: true });
  open.push(fastify);
  serveHotPaths(fastify, handlers, answerError);
  fastify.route({ method: 'POST', url: '/hot', config: { [HOT_PATH]: 'hot' }, handler: async () => ({ from: 'framework' }) });
  fastify.route({ method: 'POST', url: '/plain', handler: async () => ({ from: 'framework' }) });
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  return fastify;
}

/** A real request (Fastify's `inject` does not load under Jest's module system). */
async function call(fastify: FastifyInstance, path: string, body?: unknown): Promise<{ status: number; headers: Headers; text: string }> {
  const { port } = fastify.server.address() as AddressInfo;
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const noErrors: HotPathErrorAnswer = (error) => {
  throw error;
};

describe('serveHotPaths', () => {
  it('serves a marked route with its handler and leaves other routes to the framework', async () => {
    const fastify = await serverWith({ hot: async (request, reply) => void reply.code(200).send({ from: 'hot', body: request.body }) }, noErrors);
    const hot = await call(fastify, '/hot', { key: 'k' });
    expect(hot.status).toBe(200);
    expect(JSON.parse(hot.text)).toEqual({ from: 'hot', body: { key: 'k' } });
    expect(JSON.parse((await call(fastify, '/plain')).text)).toEqual({ from: 'framework' });
  });

  it('sends an empty answer once when the handler answers without a body', async () => {
    const fastify = await serverWith({ hot: async (_request, reply) => void reply.code(200).headers({ 'x-auth': 'yes' }).send() }, noErrors);
    const answer = await call(fastify, '/hot');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-auth')).toBe('yes');
    expect(answer.text).toBe('');
  });

  it('passes what the handler throws to the error answer, with the request and reply', async () => {
    const seen: unknown[] = [];
    const fastify = await serverWith(
      {
        hot: async () => {
          throw new Error('refused');
        },
      },
      (error, request, reply) => {
        seen.push(error);
        void reply.code(403).type('application/problem+json').send({ detail: (error as Error).message, url: request.url });
      },
    );
    const answer = await call(fastify, '/hot');
    expect(answer.status).toBe(403);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(JSON.parse(answer.text)).toEqual({ detail: 'refused', url: '/hot' });
    expect(seen).toHaveLength(1);
  });

  it('answers 500 through Fastify when the error answer itself fails', async () => {
    const fastify = await serverWith(
      {
        hot: async () => {
          throw new Error('refused');
        },
      },
      noErrors,
    );
    expect((await call(fastify, '/hot')).status).toBe(500);
  });

  it('fails start-up when a marked route has no handler', () => {
    const fastify = Fastify();
    serveHotPaths(fastify, {}, noErrors);
    expect(() => fastify.route({ method: 'GET', url: '/lost', config: { [HOT_PATH]: 'lost' }, handler: async () => 'x' })).toThrow(
      'No hot-path handler is registered for "lost" (GET /lost).',
    );
  });
});
