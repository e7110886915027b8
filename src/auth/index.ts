/** The public surface of the auth feature: other features and the app import only this file. */
export { AuthGuard } from './auth.guard.js';
export { AuthModule } from './auth.module.js';
export { ApiKeyVerifier } from './ports/api-key-verifier.port.js';
export type { ApiKeyCheck, ApiKeyCheckOptions, ApiKeyFailureCode, ApiKeyIdentity } from './ports/api-key-verifier.port.js';
export { ManagedCallerDirectory } from './ports/managed-caller-directory.port.js';
export type { ManagedCaller } from './ports/managed-caller-directory.port.js';
