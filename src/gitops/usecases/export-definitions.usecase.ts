import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import type { Definition } from '../definitions/definition.schema.js';
import { GitopsAccounts } from '../ports/gitops-accounts.port.js';
import { definitionOf } from './desired-accounts.js';

/** Definitions for every live service account Keysmith manages in a realm (or of one GitOps set), as apply would take them. */
@Injectable()
export class ExportDefinitionsUseCase {
  constructor(
    private readonly accounts: GitopsAccounts,
    private readonly config: AppConfig,
  ) {}

  async execute(realm: string, set?: string): Promise<Definition[]> {
    if (!this.config.isManagedRealm(realm)) throw new DomainError(ErrorCode.RealmNotManaged, `Realm ${realm} is not managed by Keysmith.`, { realm });
    const accounts = (await this.accounts.listAll(realm)).filter((account) => set === undefined || account.gitopsSet === set);
    return accounts.map(definitionOf).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }
}
