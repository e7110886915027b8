/** The public surface of the API-keys feature: other features and the app import only this file. */
export { ApiKeysController } from './api-keys.controller.js';
export { ApiKeysModule } from './api-keys.module.js';
export { AuthCheckController } from './auth-check.controller.js';
export { verifyApiKeySchema } from './dto/api-key.schemas.js';
export { documentForwardAuth, FORWARD_AUTH_PATH, ignoreForwardAuthBodies } from './auth-check.openapi.js';
export { ForwardAuth } from './forward-auth.js';
export { keysCreateCommand } from './cli/keys-create.command.js';
export { AccountChangeFeed } from './ports/account-change-feed.port.js';
export { ServiceAccountDirectory } from './ports/service-account-directory.port.js';
export { FixedWindowLimiter } from './services/fixed-window-limiter.js';
export { ApiKeyVerificationService } from './services/api-key-verification.service.js';
export { KeyRevocation } from './services/key-revocation.service.js';
export { KeyExpiryService } from './services/key-expiry.service.js';
