import type { INestApplicationContext, Type } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeysController, AuthCheckController, verifyApiKeySchema } from './api-keys/index.js';
import { AuthGuard } from './auth/index.js';
import type { HotPathHandler } from './common/http/hot-path.js';
import { parseBody } from './common/http/zod-validation.js';
import { AuthExchangeController, TokenExchangeController } from './token-exchange/index.js';

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
  const authorize = (request: FastifyRequest, controller: Type, method: (...args: never[]) => unknown): Promise<boolean> =>
    guard.authorize(request, [method, controller]);

  return {
    'api-keys.verify': async (request, reply) => {
      await authorize(request, ApiKeysController, ApiKeysController.prototype.verify);
      const result = await keys.verify(request, parseBody(verifyApiKeySchema, request.body));
      void reply.code(200).send(result);
    },
    'auth.check': async (request, reply) => {
      await authorize(request, AuthCheckController, AuthCheckController.prototype.check);
      await check.check(request, reply);
      sendEmpty(reply);
    },
    'auth.exchange': async (request, reply) => {
      await authorize(request, AuthExchangeController, AuthExchangeController.prototype.exchangeAtGateway);
      await exchange.exchangeAtGateway(request, reply);
      sendEmpty(reply);
    },
    // The controller answers by itself (`@Res()`), in OAuth's format, errors included.
    token: async (request, reply) => {
      await authorize(request, TokenExchangeController, TokenExchangeController.prototype.token);
      await token.token(request, reply);
    },
  };
}

function sendEmpty(reply: FastifyReply): void {
  void reply.code(200).send();
}
