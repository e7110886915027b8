import type { OperationContext } from '../common/context/operation-context.js';
import type { ServiceAccountSpec } from '../service-accounts/dto/service-account.schemas.js';
import type { ServiceAccountView } from '../service-accounts/service-account.view.js';
import type { AccountChange } from './gitops.types.js';

/** One change as the service-accounts feature reports it: by name, never by UUID. */
export type { AccountChange };

/**
 * What GitOps needs from the service-accounts feature: the same code path as the API's PUT
 * (`plan` computes, `upsert` applies), the list of accounts Keysmith holds, and delete.
 */
export abstract class GitopsAccounts {
  abstract plan(realm: string, clientId: string, spec: ServiceAccountSpec): Promise<{ action: 'create' | 'update' | 'noop'; changes: AccountChange[]; forbidden: string[] }>;
  abstract upsert(
    context: OperationContext,
    realm: string,
    clientId: string,
    spec: ServiceAccountSpec,
    options: { managedBy?: 'api' | 'gitops'; source?: string | null },
  ): Promise<{ created: boolean; account: ServiceAccountView; changes: AccountChange[]; clientSecret?: string }>;
  abstract remove(context: OperationContext, realm: string, clientId: string): Promise<void>;
  abstract listAll(realm: string): Promise<ServiceAccountView[]>;
  abstract forbiddenGrants(spec: Pick<ServiceAccountSpec, 'realmRoles' | 'clientRoles' | 'defaultScopes' | 'optionalScopes'>): string[];
}
