/** The public surface of the secrets feature: other features and the app import only this file. */
export { SecretVault } from './secret-vault.js';
export { SecretsModule } from './secrets.module.js';
export { MasterKeyCheck, MasterKeyMismatchError } from './master-key-check.js';
