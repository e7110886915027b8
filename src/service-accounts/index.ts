/** The public surface of the service-accounts feature: other features and the app import only this file. */
export { clientIdSchema, serviceAccountSpecSchema } from './dto/service-account.schemas.js';
export type { ServiceAccountSpec } from './dto/service-account.schemas.js';
export { SET_NAME_PATTERN, SET_NAME_RULE, setTransition } from './gitops-set.js';
export type { SetRequest } from './gitops-set.js';
export { GrantPolicy } from './policy/grant-policy.js';
export { ServiceAccountEvents } from './service-account.events.js';
export type { ServiceAccountView } from './service-account.view.js';
export { ServiceAccountsModule } from './service-accounts.module.js';
export { SecretRotationService } from './services/secret-rotation.service.js';
export { ServiceAccountsService } from './services/service-accounts.service.js';
export { AccountLookupService } from './services/account-lookup.service.js';
export type { GrantViolation } from './policy/grant-validator.js';
export { PolicyViolationsService } from './services/policy-violations.service.js';
export { AccountRows } from './services/account-rows.js';
export { RecoverAccountUseCase } from './usecases/recover-account.usecase.js';
export { GrantGraphReader, GrantGraphUnreadable, roleGrantName } from '../common/grants/grant-graph.js';
export type { MapperNode, RoleNode, RoleRef, ScopeNode } from '../common/grants/grant-graph.js';
