/** The public surface of the token-exchange feature: other features and the app import only this file. */
export { AuthExchangeController } from './auth-exchange.controller.js';
export { AUTH_EXCHANGE_PATH, documentAuthExchange } from './auth-exchange.openapi.js';
export { TokenExchangeController } from './token-exchange.controller.js';
export { TokenExchangeModule } from './token-exchange.module.js';
export { limitTokenRequestBodies, TOKEN_BODY_LIMIT_BYTES } from './token-body-limit.js';
