import { Logger } from '@nestjs/common';
import type { AuditService } from '../../audit/index.js';
import type { ApiKeyIdentity } from '../../auth/index.js';
import { FixedWindowLimiter } from '../../api-keys/index.js';

const PER_KEY_PER_MINUTE = 1;
const TOTAL_PER_MINUTE = 60;

export interface ExchangeAuditEntry {
  identity: ApiKeyIdentity;
  outcome: 'success' | 'failure';
  requestId: string | null;
  detail: Record<string, unknown>;
}

/**
 * Samples `api_key.exchanged` events: at most one a minute per key and outcome, 60 a minute in
 * all; the number left out is carried by the next event recorded as `suppressedBefore`. Events
 * name the key by id; never the key, the secret or the token.
 */
export class ExchangeAuditSampler {
  private readonly logger = new Logger('TokenExchangeAudit');
  private readonly limiter: FixedWindowLimiter;
  private suppressed = 0;

  constructor(
    private readonly audit: AuditService,
    now: () => number,
  ) {
    this.limiter = new FixedWindowLimiter(now, 10_000);
  }

  /** Records `entry` if the sampling admits it. */
  async record(entry: ExchangeAuditEntry): Promise<void> {
    const suppressed = this.admit(entry.outcome, entry.identity);
    if (suppressed !== undefined) await this.write(entry, suppressed);
  }

  /**
   * Decides at once whether an event of `outcome` for this key is recorded: undefined when it is
   * left out (counted for the next one), else how many were left out before it, for `write`. A
   * caller that writes later (after its answer) makes the event only when it is admitted.
   */
  admit(outcome: ExchangeAuditEntry['outcome'], identity: ApiKeyIdentity): number | undefined {
    const perKey = this.limiter.hit(`${outcome}|${identity.keyId}`, PER_KEY_PER_MINUTE, 60);
    const total = perKey.allowed ? this.limiter.hit('*', TOTAL_PER_MINUTE, 60) : perKey;
    if (!total.allowed) {
      this.suppressed += 1;
      return undefined;
    }
    const suppressed = this.suppressed;
    this.suppressed = 0;
    return suppressed;
  }

  /** Writes an admitted event (`suppressed`: what `admit` answered); a failure is logged, not thrown. */
  async write(entry: ExchangeAuditEntry, suppressed: number): Promise<void> {
    const { identity } = entry;
    try {
      await this.audit.record(
        { actor: { type: 'api-key', id: identity.keyId }, requestId: entry.requestId, owner: null, source: null, callerScopes: null },
        {
          action: 'api_key.exchanged',
          outcome: entry.outcome,
          realm: identity.realm,
          clientId: identity.clientId,
          target: identity.keyId,
          // The key's account owner, known already: no lookup per event.
          owner: identity.owner || null,
          detail: { ...entry.detail, ...(suppressed ? { suppressedBefore: suppressed } : {}) },
        },
      );
    } catch (error) {
      this.logger.error({ err: error }, 'could not record a token exchange');
    }
  }
}
