import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, Repository } from 'typeorm';
import type { OperationContext } from '../../common/context/operation-context.js';
import { DomainError } from '../../common/errors/domain-error.js';
import { ErrorCode } from '../../common/errors/error-code.js';
import { ServiceAccountEntity, type ServiceAccountState } from '../entities/service-account.entity.js';
import { etagOf, ifMatchAccepts } from '../account-spec.js';

export const NOT_FINAL_STATES: ServiceAccountState[] = ['provisioning', 'updating', 'deleting'];

/** The account rows, as the use cases read and write them (the table is this feature's alone). */
@Injectable()
export class AccountRows {
  constructor(@InjectRepository(ServiceAccountEntity) readonly repository: Repository<ServiceAccountEntity>) {}

  /** The live row (not deleted) of an account, in any state. */
  find(realm: string, clientId: string): Promise<ServiceAccountEntity | null> {
    return this.repository.findOne({ where: { realm, clientId, deletedAt: IsNull() } });
  }

  /** The row a caller may see: 404 when missing, still being made, or another owner's. */
  async get(context: OperationContext, realm: string, clientId: string, options: { includePending?: boolean } = {}): Promise<ServiceAccountEntity> {
    const row = await this.find(realm, clientId);
    if (!row || (!options.includePending && row.state === 'provisioning') || (context.owner && row.owner !== context.owner)) {
      throw notFound(realm, clientId);
    }
    return row;
  }

  /** Rows an interrupted change left behind (not `ready`, not `deleted`). */
  notFinal(): Promise<ServiceAccountEntity[]> {
    return this.repository.find({ where: { state: In(NOT_FINAL_STATES) }, order: { id: 'ASC' } });
  }

  countNotFinal(): Promise<number> {
    return this.repository.count({ where: { state: In(NOT_FINAL_STATES) } });
  }
}

export function notFound(realm: string, clientId: string): DomainError {
  return new DomainError(ErrorCode.ServiceAccountNotFound, `No service account ${clientId} in realm ${realm}.`, { clientId });
}

/** 412 PRECONDITION_FAILED unless `ifMatch` (when given) names the row's current entity tag. */
export function assertIfMatch(row: ServiceAccountEntity | null, ifMatch: string | undefined, realm: string, clientId: string): void {
  if (ifMatch === undefined) return;
  const etag = row ? etagOf(row) : null;
  if (etag && ifMatchAccepts(ifMatch, etag)) return;
  throw new DomainError(
    ErrorCode.PreconditionFailed,
    etag
      ? `Service account ${realm}/${clientId} changed since it was read (If-Match ${ifMatch}, now ${etag}); read it again.`
      : `Service account ${realm}/${clientId} does not exist, so If-Match ${ifMatch} cannot match.`,
    { clientId, etag },
  );
}

/** The code or name of an error, for audit details (never a message that could carry a secret). */
export function reason(error: unknown): string {
  return error instanceof DomainError ? error.code : (error as Error).name;
}
