import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fastify, type FastifyInstance, type FastifyServerOptions, type RouteOptions } from 'fastify';
import { LeanLane, type LeanLaneOptions, type LeanServe } from './lean-lane.js';

type Listener = (request: IncomingMessage, response: ServerResponse) => void;

/** A route the door serves: its methods and its URL as Fastify registered it (`/a/b` or `/a/*`). */
export interface HotRoute {
  methods: readonly string[];
  url: string;
}

/** A route the door serves, and the lean lane's server for it, if the lane serves it (see lean-lane.ts). */
export interface DoorRoute extends HotRoute {
  lean?: LeanServe;
}

/** What the door does with a request of a route: the lane's server, or null for the hot instance alone. */
type Lane = LeanServe | null;

const doors = new WeakMap<object, HotDoor>();

/**
 * The door in front of the HTTP server: requests for the hot-path routes (the verification routes
 * gateways call on every request) go to a second, bare Fastify instance that has only those routes
 * and the hooks they need; every other request goes to the app's instance, with Nest's hooks and
 * middleware. Both instances run the same handlers, options and error answer, so a request gets
 * the same answer through either; the door only saves the per-request work the hot routes do not
 * need (Nest's request hooks and middleware runner). The plainest requests of some routes skip the
 * hot instance too: the lean lane (lean-lane.ts) serves them from Node's server directly.
 *
 * The door is closed (everything goes to the app's instance) until `open`, and again once the app
 * starts closing.
 */
export class HotDoor {
  private hot: Listener | null = null;
  private served: readonly HotRoute[] = [];
  /** Lanes by method, by exact path: looked up by the path as it comes, with no key string built per request. */
  private exact = new Map<string, Map<string, Lane>>();
  private prefixes: Array<{ prefix: string; lanes: ReadonlyMap<string, Lane> }> = [];

  /** `options`: the app instance's own Fastify options, which the hot instance is created with. */
  constructor(private readonly options: FastifyServerOptions) {}

  /** The `serverFactory` option of the app's Fastify instance. */
  serverFactory(): (main: Listener) => Server {
    return (main) =>
      createServer((request, response) => {
        const hot = this.hot;
        if (hot === null) {
          main(request, response);
          return;
        }
        const url = request.url ?? '';
        const query = url.indexOf('?');
        const path = query === -1 ? url : url.slice(0, query);
        const lane = this.laneOf(request.method ?? '', path);
        if (lane === undefined) main(request, response);
        else if (lane === null || !lane(request, response, path)) hot(request, response);
      });
  }

  /** A bare Fastify instance with the app's options; `open` takes it once its routes are added. */
  createInstance(): FastifyInstance {
    const { serverFactory: _ignored, ...options } = this.options as FastifyServerOptions & { serverFactory?: unknown };
    return fastify(options);
  }

  /**
   * A lean lane with the app's request ids and trusted proxies (the instance's options); the routes
   * handed to `open` carry its servers.
   */
  createLeanLane(options: Omit<LeanLaneOptions, 'genReqId' | 'trustProxy'>): LeanLane {
    const { genReqId, trustProxy } = this.options;
    if (typeof genReqId !== 'function') throw new Error('The hot door needs the app to generate request ids (genReqId).');
    if (trustProxy !== false && trustProxy !== undefined && !Array.isArray(trustProxy)) {
      throw new Error('The lean lane reads trusted proxies as a list of addresses only (KEYSMITH_TRUSTED_PROXIES).');
    }
    return new LeanLane({ ...options, genReqId, trustProxy: trustProxy ? (trustProxy as string[]) : false });
  }

  /** Sends requests for `routes` to `instance` from now on (it must be ready), or to a route's lean lane. */
  open(instance: FastifyInstance, routes: readonly DoorRoute[]): void {
    this.exact = new Map();
    this.prefixes = [];
    for (const { methods, url, lean } of routes) {
      const star = url.indexOf('*');
      const lanes = star === -1 ? (this.exact.get(url) ?? new Map<string, Lane>()) : new Map<string, Lane>();
      for (const method of methods) lanes.set(method, lean ?? null);
      if (star === -1) this.exact.set(url, lanes);
      else this.prefixes.push({ prefix: url.slice(0, star), lanes });
    }
    this.hot = (request, response) => instance.routing(request, response);
    this.served = routes.map(({ methods, url }) => ({ methods: [...methods], url }));
  }

  /** The routes the door sends to the hot instance now (none while closed). */
  get routes(): readonly HotRoute[] {
    return this.hot === null ? [] : this.served;
  }

  /** Sends every request to the app's instance again. */
  close(): void {
    this.hot = null;
  }

  /** The lane of a request the door serves (null: the hot instance), or undefined for the app's instance. */
  private laneOf(method: string, path: string): Lane | undefined {
    const lane = this.exact.get(path)?.get(method);
    if (lane !== undefined) return lane;
    for (const { prefix, lanes } of this.prefixes) if (path.startsWith(prefix) && lanes.has(method)) return lanes.get(method);
    return undefined;
  }
}

/** Remembers the door of an adapter (see createFastifyAdapter), for configureApp to open. */
export function attachHotDoor(owner: object, door: HotDoor): void {
  doors.set(owner, door);
}

export function hotDoorOf(owner: object): HotDoor | undefined {
  return doors.get(owner);
}

/** The methods of a route as registered (Fastify gives one or a list). */
export function routeMethods(route: RouteOptions): string[] {
  return (Array.isArray(route.method) ? route.method : [route.method]).map(String);
}
