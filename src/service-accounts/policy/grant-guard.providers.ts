import type { Provider } from '@nestjs/common';
import { AppConfig } from '../../config/app-config.js';
import { GrantGraphReader } from '../../common/grants/grant-graph.js';
import { GrantPolicy } from './grant-policy.js';
import { GrantValidator } from './grant-validator.js';

/** The guard-rail policy from KEYSMITH_GRANT_POLICY_FILE and KEYSMITH_GRANT_DENY_PATTERNS, and the validator judging by it. */
export const grantGuardProviders: Provider[] = [
  {
    provide: GrantPolicy,
    useFactory: (config: AppConfig) => GrantPolicy.load(config.grantPolicy.file, config.grantPolicy.denyPatterns),
    inject: [AppConfig],
  },
  {
    provide: GrantValidator,
    useFactory: (reader: GrantGraphReader, policy: GrantPolicy, config: AppConfig) =>
      new GrantValidator(reader, { rules: policy, ownerClaim: config.auth.ownerClaim, adminScope: config.auth.adminScope }),
    inject: [GrantGraphReader, GrantPolicy, AppConfig],
  },
];
