import type { OperationContext } from '../../common/context/operation-context.js';
import type { ClientSummaries, GrantViolation, ServiceAccountSpec, ServiceAccountView, SetRequest } from '../../service-accounts/index.js';
import type { AccountChange } from '../gitops.types.js';

/** One change as the service-accounts feature reports it: by name, never by UUID. */
export type { AccountChange };

/**
 * What GitOps needs from the service-accounts feature: the same code path as the API's PUT
 * (`plan` computes and `upsert` applies, enforcing set ownership; both judge an unchanged account from the client list's summaries when given them), the list of accounts Keysmith
 * holds, delete (for prune, only while the account is still in the set), and set assignment.
 */
export abstract class GitopsAccounts {
  abstract plan(
    realm: string,
    clientId: string,
    spec: ServiceAccountSpec,
    context?: Pick<OperationContext, 'callerScopes'>,
    clients?: ClientSummaries,
  ): Promise<{ action: 'create' | 'update' | 'noop'; changes: AccountChange[]; forbidden: string[]; violations: GrantViolation[]; detailed: boolean }>;
  /** The realm's client list, summarised (one paged read), for plans in `summary` mode. */
  abstract clientSummaries(realm: string): Promise<ClientSummaries>;
  abstract upsert(
    context: OperationContext,
    realm: string,
    clientId: string,
    spec: ServiceAccountSpec,
    options: { managedBy?: 'api' | 'gitops'; source?: string | null; set?: SetRequest; clients?: ClientSummaries },
  ): Promise<{ created: boolean; account: ServiceAccountView; changes: AccountChange[]; clientSecret?: string }>;
  abstract remove(context: OperationContext, realm: string, clientId: string, options?: { onlyInSet?: string }): Promise<void>;
  abstract assignSet(context: OperationContext, realm: string, clientId: string, set: string): Promise<'assigned' | 'unchanged'>;
  abstract listAll(realm: string): Promise<ServiceAccountView[]>;
}
