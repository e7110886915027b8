/** The public surface of the token-exchange feature: other features and the app import only this file. */
export { AUTH_EXCHANGE_PATH, documentAuthExchange } from './auth-exchange.openapi.js';
export { TokenExchangeModule } from './token-exchange.module.js';
