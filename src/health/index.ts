/** The public surface of the health feature: other features and the app import only this file. */
export { HealthModule } from './health.module.js';
export { KeycloakProbe, SecretRotationSupport } from './ports/readiness.port.js';
