import type { OperationContext } from '../../common/context/operation-context.js';
import type { Fence } from '../../common/leases/leases.js';
import type { ClientOwnership, RealmCatalog } from '../../keycloak/index.js';
import type { Grantable } from '../account-spec.js';
import type { ClientSummaries } from '../services/plan-reading.js';
import type { ServiceAccountSpec } from '../dto/service-account.schemas.js';
import type { ManagedBy, ServiceAccountEntity } from '../entities/service-account.entity.js';
import type { SetRequest } from '../gitops-set.js';
import type { ServiceAccountView } from '../service-account.view.js';
import type { Change } from '../services/grant-diff.js';

export interface ApplyOptions {
  managedBy?: ManagedBy;
  /** Where the change came from, such as a GitOps commit sha; stamped on the account. */
  source?: string | null;
  /** GitOps applies: the set the account belongs to afterwards, enforced under the account's lock. */
  set?: SetRequest;
  /** The entity tag the caller read (`If-Match`); 412 when the account changed since. */
  ifMatch?: string;
  /**
   * GitOps applies in `summary` mode: the realm's client list, read before the apply. An existing
   * account whose summary shows it unchanged against the spec (see plan-reading.ts) is neither read
   * in detail nor written in Keycloak; without it every existing account is read in full.
   */
  clients?: ClientSummaries;
}

export interface UpsertResult {
  created: boolean;
  account: ServiceAccountView;
  changes: Change[];
  /** Only when created: the client secret, shown this once. */
  clientSecret?: string;
}

/** Create the account `clientId` with `spec` (checked, `catalog` resolved) under its lease. */
export interface ProvisionAccountCommand {
  context: OperationContext;
  realm: string;
  clientId: string;
  spec: ServiceAccountSpec;
  catalog: RealmCatalog;
  options: ApplyOptions;
  fence: Fence;
  /**
   * Whether a client of this name exists, as Keycloak answered before the lease was taken (a read,
   * made beside the lease) or as the realm's client list read before a GitOps apply shows it; a
   * client seen there is looked up again under the lease. Without it, the look-up is made there.
   */
  found?: Promise<ClientOwnership | undefined>;
}

/** Make Keycloak match `spec` for the existing account `row`, under its lease. */
export interface ReconcileAccountCommand {
  context: OperationContext;
  row: ServiceAccountEntity;
  spec: ServiceAccountSpec;
  catalog: RealmCatalog;
  options: ApplyOptions;
  fence: Fence;
  /**
   * Judges the grants the change would add to Keycloak (`added`: roles and scopes Keycloak does not
   * hold now) before anything is written; throws to refuse (see SpecChecker.assertAddedAllowed).
   */
  judgeAdded?: (added: Grantable) => Promise<void>;
}

/** Delete the account `row` (with `onlyInSet`, only while it still belongs to that GitOps set), under its lease. */
export interface DeleteAccountCommand {
  context: OperationContext;
  row: ServiceAccountEntity;
  onlyInSet?: string;
  fence: Fence;
}
