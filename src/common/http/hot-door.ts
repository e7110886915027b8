import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fastify, type FastifyInstance, type FastifyServerOptions, type RouteOptions } from 'fastify';

type Listener = (request: IncomingMessage, response: ServerResponse) => void;

/** A route the door serves: its methods and its URL as Fastify registered it (`/a/b` or `/a/*`). */
export interface HotRoute {
  methods: readonly string[];
  url: string;
}

const doors = new WeakMap<object, HotDoor>();

/**
 * The door in front of the HTTP server: requests for the hot-path routes (the verification routes
 * gateways call on every request) go to a second, bare Fastify instance that has only those routes
 * and the hooks they need; every other request goes to the app's instance, with Nest's hooks and
 * middleware. Both instances run the same handlers, options and error answer, so a request gets
 * the same answer through either; the door only saves the per-request work the hot routes do not
 * need (Nest's request hooks and middleware runner).
 *
 * The door is closed (everything goes to the app's instance) until `open`, and again once the app
 * starts closing.
 */
export class HotDoor {
  private hot: Listener | null = null;
  private served: readonly HotRoute[] = [];
  /** Methods by exact path: looked up by the path as it comes, with no key string built per request. */
  private exact = new Map<string, Set<string>>();
  private prefixes: Array<{ prefix: string; methods: ReadonlySet<string> }> = [];

  /** `options`: the app instance's own Fastify options, which the hot instance is created with. */
  constructor(private readonly options: FastifyServerOptions) {}

  /** The `serverFactory` option of the app's Fastify instance. */
  serverFactory(): (main: Listener) => Server {
    return (main) =>
      createServer((request, response) => {
        const hot = this.hot;
        if (hot !== null && this.matches(request.method ?? '', request.url ?? '')) hot(request, response);
        else main(request, response);
      });
  }

  /** A bare Fastify instance with the app's options; `open` takes it once its routes are added. */
  createInstance(): FastifyInstance {
    const { serverFactory: _ignored, ...options } = this.options as FastifyServerOptions & { serverFactory?: unknown };
    return fastify(options);
  }

  /** Sends requests for `routes` to `instance` from now on (it must be ready). */
  open(instance: FastifyInstance, routes: readonly HotRoute[]): void {
    this.exact = new Map();
    this.prefixes = [];
    for (const { methods, url } of routes) {
      const star = url.indexOf('*');
      if (star === -1) {
        const known = this.exact.get(url) ?? new Set<string>();
        for (const method of methods) known.add(method);
        this.exact.set(url, known);
      } else this.prefixes.push({ prefix: url.slice(0, star), methods: new Set(methods) });
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

  private matches(method: string, url: string): boolean {
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (this.exact.get(path)?.has(method)) return true;
    for (const { prefix, methods } of this.prefixes) if (path.startsWith(prefix) && methods.has(method)) return true;
    return false;
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
