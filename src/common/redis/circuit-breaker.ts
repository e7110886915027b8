/**
 * Stops calling a dependency that keeps failing: after `threshold` failures in a row it opens for
 * `openMs` (calls are skipped), then lets one trial call through; its success closes it, its
 * failure opens it again.
 */
export class CircuitBreaker {
  private failures = 0;
  private openUntil = 0;

  constructor(
    private readonly now: () => number,
    private readonly threshold = 3,
    private readonly openMs = 2_000,
  ) {}

  get isOpen(): boolean {
    return this.failures >= this.threshold && this.now() < this.openUntil;
  }

  /** Whether to call now. After the open period, the first caller gets the trial; the others keep skipping until it ends. */
  allows(): boolean {
    if (this.failures < this.threshold) return true;
    const now = this.now();
    if (now < this.openUntil) return false;
    this.openUntil = now + this.openMs;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.openUntil = 0;
  }

  failure(): void {
    this.failures += 1;
    if (this.failures >= this.threshold) this.openUntil = this.now() + this.openMs;
  }
}
