import type { GrantViolation } from '../service-accounts/policy/grant-validator.js';
import type { AccountChange } from './gitops-accounts.port.js';

export type PlannedAction = 'create' | 'update' | 'delete' | 'noop' | 'error';

/** What apply would do to one service account. Holds no secret. */
export interface AccountPlan {
  realm: string;
  clientId: string;
  action: PlannedAction;
  /** Field by field, roles and scopes by name. */
  changes: AccountChange[];
  /** Grants the guard-rail policy forbids: apply refuses this account. */
  forbidden: string[];
  /** Why, with the path from each grant to what makes it forbidden (`realm:ops → client:realm-management:manage-users`). */
  violations: GrantViolation[];
  /** The account exists but was made through the API; apply hands it to GitOps (no Keycloak change). */
  adopt?: boolean;
  /** The account joins the apply's set: created, adopted, moved with --adopt-from-set, or assigned with --adopt-unassigned. */
  setChange?: { from: string | null; to: string | null };
  /** A GitOps account with no set: apply updates it but leaves it unassigned (never pruned). */
  unassigned?: boolean;
  error?: { code: string; detail: string };
  /** Where the definition is, when it came from files. */
  definedAt?: string;
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  noop: number;
  forbidden: number;
  errors: number;
}

export interface AccountRef {
  realm: string;
  clientId: string;
}

export interface GitopsPlan {
  /** The set the bundle owns (`--set`), or null. */
  set: string | null;
  accounts: AccountPlan[];
  /** Accounts of the same set absent from the definitions that stay because `--prune` was not given. */
  notPruned: AccountRef[];
  /** GitOps accounts with no set absent from the definitions: never pruned; assign them with `keysmith sets assign`. */
  unassigned: AccountRef[];
  summary: PlanSummary;
  /** True when apply would change anything. */
  hasChanges: boolean;
}

export interface AppliedAccount {
  realm: string;
  clientId: string;
  action: 'created' | 'updated' | 'deleted' | 'unchanged';
  changes: AccountChange[];
  /** For a created account: where its client secret can be read (it is never printed). */
  secret?: string;
  /** A GitOps account with no set, updated but left unassigned. */
  unassigned?: boolean;
}

export interface FailedAccount {
  realm: string;
  clientId: string;
  action: PlannedAction;
  code: string;
  detail: string;
}

export interface ApplySummary {
  set: string | null;
  source: string | null;
  applied: AppliedAccount[];
  failed: FailedAccount[];
  /** Deletions refused by the cap; nothing at all is applied then. */
  refused?: { reason: string; deletions: number; maxDeletions: number };
  /** GitOps accounts with no set absent from the definitions: never pruned. */
  unassigned: AccountRef[];
  ok: boolean;
}
