import { BadRequestException, type INestApplicationContext } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import { parse as parseQueryString } from 'fast-querystring';
import { ApiKeysController, AuthCheckController, verifyApiKeySchema } from './api-keys/index.js';
import { AuthGuard } from './auth/index.js';
import type { DoorRoute, HotDoor } from './common/http/hot-door.js';
import { HOT_PATH, hotPathRouteHandler, type HotPathErrorAnswer, type HotPathHandler, type MarkedRoute, type RouteMark } from './common/http/hot-path.js';
import type { HotReply, HotRequest } from './common/http/hot-request.js';
import { explainingJsonParser, parseJsonBody } from './common/http/json-body.js';
import type { LeanBody } from './common/http/lean-lane.js';
import { parseBody } from './common/http/zod-validation.js';
import { REQUEST_ID_HEADER } from './common/http/request-id.js';
import { ignoreForwardAuthBodies } from './api-keys/index.js';
import { AuthExchangeController, limitTokenRequestBodies, TokenExchangeController } from './token-exchange/index.js';

/**
 * The handlers of the routes marked `@HotPath`: the verification routes gateways call on every
 * request. Each does what Nest's pipeline did for its controller method, and nothing more: the
 * same guard decision (`AuthGuard.authorize` with the method's own metadata: scopes or public),
 * the same body validation (`parseBody`, as ZodPipe), the controller method itself, and its
 * status (`@HttpCode(200)`). Errors are answered by the problem+json filter (see `serveHotPaths`).
 */
export function hotPathHandlers(app: INestApplicationContext): Record<string, HotPathHandler> {
  const guard = app.get(AuthGuard);
  const keys = app.get(ApiKeysController);
  const check = app.get(AuthCheckController);
  const token = app.get(TokenExchangeController);
  const exchange = app.get(AuthExchangeController);
  // Each route's guard decision with its metadata read once, here (none for a public route).
  const authorize = {
    verify: guard.authorizer([ApiKeysController.prototype.verify, ApiKeysController]),
    check: guard.authorizer([AuthCheckController.prototype.check, AuthCheckController]),
    exchange: guard.authorizer([AuthExchangeController.prototype.exchangeAtGateway, AuthExchangeController]),
    token: guard.authorizer([TokenExchangeController.prototype.token, TokenExchangeController]),
  };

  return {
    'api-keys.verify': async (request, reply) => {
      if (authorize.verify) await authorize.verify(request);
      const result = await keys.verify(request, parseBody(verifyApiKeySchema, request.body));
      sendJson(reply, result);
    },
    'auth.check': async (request, reply) => {
      if (authorize.check) await authorize.check(request);
      await check.check(request, reply);
      sendEmpty(reply);
    },
    'auth.exchange': async (request, reply) => {
      if (authorize.exchange) await authorize.exchange(request);
      await exchange.exchangeAtGateway(request, reply);
      sendEmpty(reply);
    },
    // The controller answers by itself (`@Res()`), in OAuth's format, errors included.
    token: async (request, reply) => {
      if (authorize.token) await authorize.token(request);
      await token.token(request, reply);
    },
  };
}

/**
 * The hot-path routes the lean lane serves (see lean-lane.ts), by what their bodies are. The token
 * endpoint is not among them: its body is a form, and its cost is Keycloak's.
 */
const LEAN_BODIES: Readonly<Record<string, LeanBody>> = { 'api-keys.verify': 'json', 'auth.check': 'none', 'auth.exchange': 'none' };

/** JSON texts of frozen answers (a valid key's verdict is one frozen object per identity; see ApiKeysController). */
const serialized = new WeakMap<object, string>();

/** Answers 200 with `value` as JSON, as Fastify serializes it; a frozen value is serialized once. */
function sendJson(reply: HotReply, value: object): void {
  const frozen = Object.isFrozen(value);
  let body = frozen ? serialized.get(value) : undefined;
  if (body === undefined) {
    body = JSON.stringify(value);
    if (frozen) serialized.set(value, body);
  }
  void reply.code(200).type('application/json; charset=utf-8').send(body);
}

function sendEmpty(reply: HotReply): void {
  void reply.code(200).send();
}

export interface HotDoorSetup {
  /** The routes marked `@HotPath`, as the app's instance registered them. */
  routes: readonly MarkedRoute[];
  handlers: Readonly<Record<string, HotPathHandler>>;
  answerError: HotPathErrorAnswer;
  /**
   * What the app instance's response hook does (access log, duration metric), for one answered
   * request of `route`; each hot route calls it from a hook of its own, with its mark made once.
   * The request-id header needs no hook here: the hot-path handlers and the error answer below set it.
   */
  observe: (request: HotRequest, reply: HotReply, route: RouteMark) => void;
  /** Reports what fails after an answer is sent (see LeanLaneOptions.fault). */
  fault: (error: unknown, requestId: string) => void;
  /** Routes whose bodies are ignored (forward-auth). */
  bodylessPaths: readonly string[];
}

/**
 * Opens the hot door (see hot-door.ts): a bare Fastify instance with the app's options serves the
 * routes marked `@HotPath` with the same handlers, error answer, hooks and body parsers as the
 * app's instance, which keeps serving them too (for a URL the door does not match, and once the
 * app is closing). The lean lane (lean-lane.ts) serves the plainest requests of the routes in
 * LEAN_BODIES with the same handlers, without a Fastify instance. Call after `app.init()`, when
 * the app's routes are registered.
 */
export async function openHotDoor(door: HotDoor, app: FastifyInstance, setup: HotDoorSetup): Promise<void> {
  const hot = door.createInstance();
  ignoreForwardAuthBodies(hot, setup.bodylessPaths);
  limitTokenRequestBodies(hot);
  // As on the app's instance: a refused JSON body is answered with the reason.
  hot.removeContentTypeParser('application/json');
  hot.addContentTypeParser('application/json', { parseAs: 'string' }, explainingJsonParser());
  // As on the app's instance (Nest's parser): a repeated parameter becomes a list, and a
  // `__proto__` parameter is refused as in a JSON body.
  hot.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    const form = parseQueryString(body as string);
    if (Object.hasOwn(form, '__proto__')) done(new BadRequestException('Object contains forbidden prototype property'), undefined);
    else done(null, { ...form });
  });
  // An error before the handler (a body that cannot be read) is answered here, with the request id.
  hot.setErrorHandler((error, request, reply) => setup.answerError(error, request, reply.header(REQUEST_ID_HEADER, request.id)));
  const lane = door.createLeanLane({ parseJson: parseJsonBody, answerError: setup.answerError, observe: setup.observe, fault: setup.fault });
  const routes: DoorRoute[] = [];
  for (const { name, url, methods } of setup.routes) {
    // Nest adds WebDAV methods and the like to the app's instance, with a body (forward-auth takes any method).
    for (const method of methods) if (!hot.supportedMethods.includes(method)) hot.addHttpMethod(method, { hasBody: true });
    // The mark the app's instance has too: the access log samples these routes by it.
    const config = { [HOT_PATH]: name };
    const mark: RouteMark = Object.freeze({ url, config });
    const handler = hotPathRouteHandler(name, setup.handlers, setup.answerError, `${methods.join(',')} ${url}`);
    const body = LEAN_BODIES[name];
    routes.push({ url, methods, lean: body === undefined ? undefined : lane.route(mark, body, handler) });
    hot.route({
      method: [...methods],
      url,
      config,
      handler,
      // A route's own hook (a request that matches no route is answered by the app's instance).
      onResponse: (request, reply, done) => {
        setup.observe(request, reply, mark);
        done();
      },
    });
  }
  await hot.ready();
  app.addHook('preClose', (done) => {
    door.close();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    hot.close().then(() => done(), done);
  });
  door.open(hot, routes);
}
