import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AuditService } from '../../audit/index.js';
import { accountChange, ChangeFeed, keyChange } from '../../common/changes/index.js';
import type { OperationContext } from '../../common/context/operation-context.js';
import { Clock } from '../../common/time/clock.js';
import type { ServiceAccountView } from '../../service-accounts/index.js';
import { ApiKeyEntity } from '../entities/api-key.entity.js';
import { changeStamp } from './key-rows.js';

/**
 * Revokes all the keys of an account at once: what deleting an account does before its row is
 * marked deleted (the service-accounts feature calls it through its AccountKeys port). It reads
 * nothing of the account but what it is given, so it depends on no other feature's services.
 */
@Injectable()
export class KeyRevocation {
  constructor(
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
    private readonly clock: Clock,
    private readonly audit: AuditService,
    private readonly changes: ChangeFeed,
  ) {}

  /**
   * Revokes every key of an account that is not revoked yet (the account was deleted). The events
   * carry the account's owner, known already: no lookup per key.
   */
  async revokeAllOf(context: OperationContext, account: Pick<ServiceAccountView, 'realm' | 'clientId' | 'owner'>, reason: string): Promise<number> {
    const { realm, clientId, owner } = account;
    const rows = await this.keys
      .createQueryBuilder('k')
      .where('k.realm = :realm AND k.clientId = :clientId AND k.revokedAt IS NULL', { realm, clientId })
      .getMany();
    if (rows.length === 0) return 0;
    const now = this.clock.now();
    await this.changes.transaction(async (manager, changed) => {
      await manager.update(ApiKeyEntity, rows.map((row) => row.id), { revokedAt: now, changedAt: changeStamp(manager.connection) });
      changed(accountChange(realm, clientId), ...rows.map(keyChange));
    });
    for (const row of rows) {
      await this.audit.record(context, { action: 'api_key.revoked', realm, clientId, owner, target: row.id, detail: { name: row.name, hint: row.hint, reason } });
    }
    return rows.length;
  }
}
