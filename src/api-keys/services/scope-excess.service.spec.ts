import type { Repository } from 'typeorm';
import type { AuditService } from '../../audit/index.js';
import { systemContext } from '../../common/context/operation-context.js';
import { MetricsRegistry } from '../../common/metrics/metrics.registry.js';
import { Clock } from '../../common/time/clock.js';
import { loadConfig } from '../../config/app-config.js';
import type { ServiceAccountView } from '../../service-accounts/index.js';
import type { ApiKeyEntity } from '../entities/api-key.entity.js';
import type { AccountChange, AccountChangeFeed } from '../ports/account-change-feed.port.js';
import type { ServiceAccountDirectory } from '../ports/service-account-directory.port.js';
import { ScopeExcessService } from './scope-excess.service.js';

const env = { KEYCLOAK_CLIENT_SECRET: 'x', KEYSMITH_MASTER_KEY: 'ab'.repeat(32), KEYSMITH_MANAGED_REALMS: 'platform' };

describe('ScopeExcessService', () => {
  it('re-reads the keys of an account that changed, not of one just made (it has none)', async () => {
    const reads: unknown[] = [];
    const keys = { find: async (options: unknown) => (reads.push(options), []) } as unknown as Repository<ApiKeyEntity>;
    const directory = { listAll: async () => [] } as unknown as ServiceAccountDirectory;
    let listener: ((event: AccountChange) => Promise<void> | void) | undefined;
    const events = { subscribe: (subscriber: typeof listener) => (listener = subscriber) } as unknown as AccountChangeFeed;
    const service = new ScopeExcessService(keys, directory, events, {} as AuditService, new Clock(), loadConfig(env), new MetricsRegistry());
    service.onApplicationBootstrap();
    await service.beforeApplicationShutdown();
    const account = { realm: 'platform', clientId: 'billing', owner: 'team-a', defaultScopes: ['read:data'], optionalScopes: [] } as unknown as ServiceAccountView;
    const context = systemContext('job', 'test');

    await listener?.({ type: 'created', account, context });
    expect(reads).toHaveLength(0);
    await listener?.({ type: 'changed', account, context });
    expect(reads).toEqual([expect.objectContaining({ where: expect.objectContaining({ realm: 'platform', clientId: 'billing' }) })]);
  });
});
