import { Injectable } from '@nestjs/common';
import type { OperationContext } from '../../common/context/operation-context.js';
import { detailOf, DomainError, type FieldError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { AppConfig } from '../../config/app-config.js';
import { SET_NAME_PATTERN, SET_NAME_RULE } from '../../service-accounts/index.js';
import { GitopsAccounts } from '../ports/gitops-accounts.port.js';
import type { AssignSetSummary } from '../gitops.types.js';

export interface AssignSetRequest {
  set: string;
  realm: string;
  /** The accounts to assign, by clientId; or every unassigned GitOps account of the realm. */
  clientIds: string[];
  allUnassigned: boolean;
}

export type { AssignSetSummary };

const CLIENT_ID = /^[a-z][a-z0-9-]{2,62}$/;

/**
 * `keysmith sets assign`: the explicit step that puts GitOps accounts made before sets existed (or
 * by an apply without `--set`) into a set, so that the set's `--prune` may later delete them.
 * Nothing else ever assigns an unassigned account implicitly.
 */
@Injectable()
export class AssignSetUseCase {
  constructor(
    private readonly accounts: GitopsAccounts,
    private readonly config: AppConfig,
  ) {}

  async execute(context: OperationContext, request: AssignSetRequest): Promise<AssignSetSummary> {
    const errors = assignSetErrors(request);
    if (errors.length > 0) throw DomainError.validation(errors, 'The set assignment is not valid.');
    const { set, realm } = request;
    if (!this.config.isManagedRealm(realm)) throw new DomainError(ErrorCode.RealmNotManaged, `Realm ${realm} is not managed by Keysmith.`, { realm });
    const clientIds = request.allUnassigned
      ? (await this.accounts.listAll(realm))
          .filter((account) => account.managedBy === 'gitops' && account.gitopsSet === null && (!context.owner || account.owner === context.owner))
          .map((account) => account.clientId)
      : [...new Set(request.clientIds)].sort();
    const summary: AssignSetSummary = { set, realm, assigned: [], unchanged: [], failed: [], ok: true };
    for (const clientId of clientIds) {
      try {
        const outcome = await this.accounts.assignSet(context, realm, clientId, set);
        summary[outcome].push(clientId);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        summary.failed.push({ clientId, code: error.code, detail: detailOf(error) });
      }
    }
    summary.ok = summary.failed.length === 0;
    return summary;
  }
}

/** Every problem of a request, by field: a set name, and exactly one of clientIds or allUnassigned. */
export function assignSetErrors(request: AssignSetRequest): FieldError[] {
  const errors: FieldError[] = [];
  if (!SET_NAME_PATTERN.test(request.set)) errors.push({ field: 'set', message: SET_NAME_RULE });
  if (request.allUnassigned === request.clientIds.length > 0) {
    errors.push({ field: 'clientIds', message: 'name the accounts to assign, or ask for all unassigned ones (not both)' });
  }
  request.clientIds.forEach((clientId, index) => {
    if (!CLIENT_ID.test(clientId)) errors.push({ field: `clientIds[${index}]`, message: 'must match ^[a-z][a-z0-9-]{2,62}$' });
  });
  return errors;
}
