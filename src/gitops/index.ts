/** The public surface of the GitOps feature: other features and the app import only this file. */
export { GITOPS_COMMANDS } from './cli/gitops.commands.js';
export { GitopsModule } from './gitops.module.js';
export { GitopsAccounts } from './ports/gitops-accounts.port.js';
