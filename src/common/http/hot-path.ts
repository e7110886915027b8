import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { routeMethods, type HotRoute } from './hot-door.js';
import type { HotReply, HotRequest } from './hot-request.js';
import { REQUEST_ID_HEADER } from './request-id.js';

/** The route-config entry naming a route's hot-path handler. */
export const HOT_PATH = 'keysmithHotPath';

/**
 * Answers a hot-path request completely (it always sends the reply) or throws; what it throws is
 * answered like any error of a Nest route.
 */
export type HotPathHandler = (request: HotRequest, reply: HotReply) => Promise<void>;

/** Answers an error thrown by a hot-path handler (the app passes the problem+json filter's `answer`). */
export type HotPathErrorAnswer = (error: unknown, request: HotRequest, reply: HotReply) => void;

/**
 * Marks a Nest route as served on the hot path by the handler registered under `name` with
 * `serveHotPaths`. The controller method stays the route's documentation (OpenAPI reads its
 * decorators) and the code the handler calls; only Nest's request pipeline is left out.
 */
export function HotPath(name: string): MethodDecorator {
  return RouteConfig({ [HOT_PATH]: name });
}

/**
 * What the per-request hooks read of a route: its URL pattern and its config. The request's
 * `routeOptions` has both, but Fastify builds it anew on each read; the hot door's routes hand
 * their hooks one made at start-up.
 */
export interface RouteMark {
  readonly url?: string;
  readonly config?: unknown;
}

/** Is the route marked `@HotPath` (on the app's instance or the hot door, which copies the mark)? */
export function isHotPath(route: RouteMark): boolean {
  return hotPathName(route) !== undefined;
}

/** The hot-path name of the route (`@HotPath(name)`), or undefined for another route. */
export function hotPathName(route: RouteMark): string | undefined {
  const name = (route.config as unknown as Record<string, unknown> | undefined)?.[HOT_PATH];
  return typeof name === 'string' ? name : undefined;
}

/** A route marked `@HotPath`, as the app's instance registered it. */
export interface MarkedRoute extends HotRoute {
  name: string;
}

/**
 * Serves the routes marked `@HotPath(name)` with `handlers[name]` instead of Nest's router
 * (guards, interceptors, pipes and filters): Fastify calls the handler directly. Must be called
 * before the app registers its routes (`app.init()`). A marked route without a handler fails
 * start-up, so a route never falls back silently. Returns the marked routes, filled in as they
 * are registered (the hot door serves the same routes; see hot-door.ts).
 */
export function serveHotPaths(fastify: FastifyInstance, handlers: Readonly<Record<string, HotPathHandler>>, answerError: HotPathErrorAnswer): MarkedRoute[] {
  const marked: MarkedRoute[] = [];
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const name = (route.config as Record<string, unknown> | undefined)?.[HOT_PATH];
    if (typeof name !== 'string') return;
    route.handler = hotPathRouteHandler(name, handlers, answerError, `${String(route.method)} ${route.url}`);
    marked.push({ name, url: route.url, methods: routeMethods(route) });
  });
  return marked;
}

/**
 * The route handler (of a Fastify instance, or the lean lane) that runs `handlers[name]` and
 * answers what it throws with `answerError`.
 */
export function hotPathRouteHandler(
  name: string,
  handlers: Readonly<Record<string, HotPathHandler>>,
  answerError: HotPathErrorAnswer,
  route: string,
): (request: HotRequest, reply: HotReply) => void {
  const handle = handlers[name];
  if (!handle) throw new Error(`No hot-path handler is registered for "${name}" (${route}).`);
  // Not async: the handler answers by itself, so Fastify must not send the promise's value.
  return function hotPath(request: HotRequest, reply: HotReply): void {
    // Set here rather than by an onSend hook, which the hot door's instance does without (one
    // hook less on every verification); errors are answered on the same reply, with it.
    reply.header(REQUEST_ID_HEADER, request.id);
    handle(request, reply).catch((error: unknown) => {
      try {
        answerError(error, request, reply);
      } catch (failure) {
        void reply.send(failure);
      }
    });
  };
}
