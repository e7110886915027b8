import { SharedWindowCounter, type WindowCount } from '../../common/redis/redis-window-counter.js';
import { FixedWindowLimiter } from './fixed-window-limiter.js';
import { SharedLimiter } from './shared-limiter.js';

/** The one fake: a shared counter (Redis) that several replicas' limiters share, and that can go down. */
class FakeSharedCounter extends SharedWindowCounter {
  readonly enabled = true;
  down = false;
  private readonly windows = new Map<string, { count: number; endsAt: number }>();
  readonly keys: string[] = [];

  constructor(private readonly now: () => number) {
    super();
  }

  async increment(key: string, windowMs: number): Promise<WindowCount | null> {
    if (this.down) return null;
    this.keys.push(key);
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now >= window.endsAt) window = { count: 0, endsAt: now + windowMs };
    window.count += 1;
    this.windows.set(key, window);
    return { count: window.count, resetInMs: window.endsAt - now };
  }
}

describe('SharedLimiter', () => {
  let now: number;
  let counter: FakeSharedCounter;
  const replica = (fallback: 'open' | 'closed', onFallback?: () => void) => new SharedLimiter('key', new FixedWindowLimiter(() => now), counter, fallback, onFallback);

  beforeEach(() => {
    now = 1_000_000;
    counter = new FakeSharedCounter(() => now);
  });

  it('holds one limit across replicas: three replicas together allow exactly the limit in a window', async () => {
    const replicas = [replica('open'), replica('open'), replica('open')];
    const decisions = [];
    for (let i = 0; i < 30; i += 1) decisions.push(await replicas[i % 3].hit('key_1', 10, 1));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    expect(decisions.slice(10).every((d) => !d.allowed && d.retryAfterSeconds === 1)).toBe(true);
    expect(counter.keys[0]).toBe('keysmith:limit:key:1:key_1');
    // The next window starts afresh.
    now += 1_000;
    expect((await replicas[1].hit('key_1', 10, 1)).allowed).toBe(true);
  });

  it('says when the shared window ends, in whole seconds', async () => {
    const limiter = replica('open');
    await limiter.hit('10.0.0.1', 1, 60);
    now += 15_500;
    expect(await limiter.hit('10.0.0.1', 1, 60)).toEqual({ allowed: false, retryAfterSeconds: 45 });
  });

  it('open fallback: while the counter is down each replica counts alone, so three allow up to three times the limit', async () => {
    let fallbacks = 0;
    const replicas = [replica('open', () => (fallbacks += 1)), replica('open'), replica('open')];
    counter.down = true;
    const allowed = [];
    for (let i = 0; i < 30; i += 1) allowed.push((await replicas[i % 3].hit('key_1', 5, 1)).allowed);
    expect(allowed.filter(Boolean)).toHaveLength(15);
    expect(fallbacks).toBe(10);
  });

  it('closed fallback: while the counter is down every event is refused, and allowed again once it answers', async () => {
    const limiter = replica('closed');
    counter.down = true;
    expect(await limiter.hit('10.0.0.1', 20, 60)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    counter.down = false;
    expect(await limiter.hit('10.0.0.1', 20, 60)).toEqual({ allowed: true, retryAfterSeconds: 0 });
  });

  it('without a shared counter, counts in this process', async () => {
    const limiter = new SharedLimiter('key', new FixedWindowLimiter(() => now), null, 'closed');
    const allowed = [];
    for (let i = 0; i < 4; i += 1) allowed.push((await limiter.hit('key_1', 3, 1)).allowed);
    expect(allowed).toEqual([true, true, true, false]);
    expect(counter.keys).toEqual([]);
  });
});
