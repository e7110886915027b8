import type { AuditService } from '../../audit/index.js';
import type { AppConfig } from '../../config/app-config.js';
import type { MetricsRegistry } from '../../common/metrics/metrics.registry.js';
import type { ServiceAccountView } from '../service-account.view.js';
import { PolicyViolationsService } from './policy-violations.service.js';
import type { ServiceAccountsService } from './service-accounts.service.js';

describe('PolicyViolationsService: the start-up check and a close', () => {
  it('a close stops the start-up check after the account under way and waits for it: no read after the close returned', async () => {
    const checked: string[] = [];
    const events: string[] = [];
    let release!: () => void;
    const firstCheck = new Promise<void>((resolve) => (release = resolve));
    const account = (clientId: string) => ({ realm: 'platform', clientId, owner: 'team' }) as ServiceAccountView;
    const accounts = {
      listAll: async (realm: string) => {
        events.push(`list ${realm}`);
        return [account('a'), account('b'), account('c')];
      },
      grantViolations: async (_caller: unknown, _realm: string, view: ServiceAccountView) => {
        checked.push(view.clientId);
        if (view.clientId === 'a') await firstCheck;
        events.push(`checked ${view.clientId}`);
        return [];
      },
    } as unknown as ServiceAccountsService;
    const metrics = { gauge: () => ({ set: () => undefined }) } as unknown as MetricsRegistry;
    const service = new PolicyViolationsService(accounts, {} as AuditService, { managedRealms: ['platform', 'partners'] } as AppConfig, metrics);

    service.onApplicationBootstrap();
    await new Promise((resolve) => setImmediate(resolve));
    expect(checked).toEqual(['a']);

    const closed = service.beforeApplicationShutdown().then(() => events.push('closed'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).not.toContain('closed');
    release();
    await closed;

    expect(checked).toEqual(['a']);
    expect(events).toEqual(['list platform', 'checked a', 'closed']);
  });
});
