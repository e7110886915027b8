import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { HotDoor } from './hot-door.js';

/**
 * The door as the app sets it up: the app's instance is created with the door's serverFactory and
 * answers every route "main"; the hot instance, created by the door, answers "hot".
 */
let instances: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(instances.map((instance) => instance.close()));
  instances = [];
});

async function setUp(): Promise<{ door: HotDoor; hot: FastifyInstance; base: string }> {
  const options = { forceCloseConnections: true } as const;
  const door = new HotDoor(options);
  const main = Fastify({ ...options, serverFactory: door.serverFactory() });
  main.all('/*', async () => 'main');
  const hot = door.createInstance();
  hot.post('/verify', async () => 'hot');
  hot.all('/check', async () => 'hot');
  hot.all('/check/*', async () => 'hot');
  instances.push(main, hot);
  await main.listen({ port: 0, host: '127.0.0.1' });
  await hot.ready();
  return { door, hot, base: `http://127.0.0.1:${(main.server.address() as AddressInfo).port}` };
}

async function servedBy(base: string, method: string, path: string): Promise<string> {
  return (await fetch(`${base}${path}`, { method })).text();
}

const HOT_ROUTES = [
  { methods: ['POST'], url: '/verify' },
  { methods: ['GET', 'POST', 'DELETE'], url: '/check' },
  { methods: ['GET', 'POST', 'DELETE'], url: '/check/*' },
];

describe('HotDoor', () => {
  it('sends every request to the app instance while closed', async () => {
    const { base } = await setUp();
    expect(await servedBy(base, 'POST', '/verify')).toBe('main');
    expect(await servedBy(base, 'GET', '/check/any/path')).toBe('main');
  });

  it('sends the hot routes to the hot instance once open, by method and path, query ignored', async () => {
    const { door, hot, base } = await setUp();
    door.open(hot, HOT_ROUTES);
    expect(await servedBy(base, 'POST', '/verify')).toBe('hot');
    expect(await servedBy(base, 'POST', '/verify?x=1')).toBe('hot');
    expect(await servedBy(base, 'GET', '/check')).toBe('hot');
    expect(await servedBy(base, 'DELETE', '/check/orders/42?q=1')).toBe('hot');
    // Another method, a longer path that is not below the route, another route: the app's instance.
    expect(await servedBy(base, 'GET', '/verify')).toBe('main');
    expect(await servedBy(base, 'POST', '/verify/more')).toBe('main');
    expect(await servedBy(base, 'GET', '/checkout')).toBe('main');
    expect(await servedBy(base, 'PUT', '/check/x')).toBe('main');
    expect(await servedBy(base, 'GET', '/other')).toBe('main');
  });

  it("lets a route's lean lane serve a request first, and the hot instance serve what the lane leaves", async () => {
    const { door, hot, base } = await setUp();
    const seen: string[] = [];
    door.open(hot, [
      ...HOT_ROUTES.slice(1),
      {
        methods: ['POST'],
        url: '/verify',
        lean: (request, response, path) => {
          seen.push(path);
          if (request.headers['x-lean'] !== 'yes') return false;
          response.end('lean');
          return true;
        },
      },
    ]);
    expect(await (await fetch(`${base}/verify?q=1`, { method: 'POST', headers: { 'x-lean': 'yes' } })).text()).toBe('lean');
    expect(await servedBy(base, 'POST', '/verify')).toBe('hot');
    expect(await servedBy(base, 'GET', '/check')).toBe('hot');
    expect(seen).toEqual(['/verify', '/verify']);
  });

  it('sends everything to the app instance again once closed', async () => {
    const { door, hot, base } = await setUp();
    door.open(hot, HOT_ROUTES);
    door.close();
    expect(await servedBy(base, 'POST', '/verify')).toBe('main');
  });

  it('creates the hot instance with the app instance options, without its server factory', async () => {
    const door = new HotDoor({ bodyLimit: 10, serverFactory: () => { throw new Error('not for the hot instance'); } } as never);
    const hot = door.createInstance();
    instances.push(hot);
    expect(hot.initialConfig.bodyLimit).toBe(10);
    await expect(hot.ready()).resolves.toBeDefined();
  });
});
