import type { FastifyInstance } from 'fastify';

/** The path of the token endpoint (`TokenExchangeController`). */
export const TOKEN_PATH = '/v1/token';
/**
 * A token request is a few hundred bytes of form parameters; its route reads at most this much, not
 * the app's 5 MB, since anyone may call it and a body refused unread costs nothing to parse.
 */
export const TOKEN_BODY_LIMIT_BYTES = 16 * 1024;

/** Sets the token route's body limit as it is registered (call before the routes are). */
export function limitTokenRequestBodies(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    if (route.url === TOKEN_PATH) route.bodyLimit = TOKEN_BODY_LIMIT_BYTES;
  });
}
