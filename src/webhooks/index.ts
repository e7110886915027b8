/** The public surface of the webhooks feature: other features and the app import only this file. */
export { WebhooksModule } from './webhooks.module.js';
export { WebhooksService } from './webhooks.service.js';
