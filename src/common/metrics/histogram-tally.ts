interface Series<L extends string> {
  labels: Readonly<Record<L, string>>;
  /** Observations per bucket, not cumulative; the last slot counts those above every bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

type Level = Map<string, unknown>;

/** One sample as prom-client's registry formats it (`metricName` for `_bucket`, `_sum`, `_count`). */
export interface HistogramSample {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

/**
 * A Prometheus histogram for the per-request paths, read by the registry like any prom-client
 * metric (see MetricsRegistry.histogramTally). `observe` finds its label set through one Map per
 * label and counts into plain numbers; prom-client's `Histogram.observe` validates the labels and
 * hashes the label set (sorting the names) on every call, about 1.8 µs of a verification's CPU
 * time. The exposition is the same: cumulative `_bucket` samples with `le` (then `+Inf`), `_sum`
 * and `_count` per label set. Label values must come from a small set (route patterns, methods,
 * statuses).
 */
export class HistogramTally<L extends string> {
  readonly type = 'histogram';
  /** How prom-client's AggregatorRegistry merges workers' values. */
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  /** The series by label value, one Map level per label name (in `labelNames` order). */
  private index: Level = new Map();
  private series: Array<Series<L>> = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    buckets: readonly number[],
  ) {
    this.bounds = [...buckets].sort((a, b) => a - b);
  }

  observe(labels: Readonly<Record<L, string>>, value: number): void {
    if (!Number.isFinite(value)) return;
    // One Map level per label: no key string is built (values such as the route pattern are the same
    // string on every request, so their hashes are already known).
    let level = this.index;
    const last = this.labelNames.length - 1;
    for (let i = 0; i < last; i += 1) {
      const labelValue = labels[this.labelNames[i]];
      let next = level.get(labelValue) as Level | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(labelValue, next);
      }
      level = next;
    }
    const leaf = last >= 0 ? labels[this.labelNames[last]] : '';
    let series = level.get(leaf) as Series<L> | undefined;
    if (series === undefined) {
      series = { labels: { ...labels }, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      level.set(leaf, series);
      this.series.push(series);
    }
    let bucket = 0;
    while (bucket < this.bounds.length && value > this.bounds[bucket]) bucket += 1;
    series.counts[bucket] += 1;
    series.sum += value;
    series.count += 1;
  }

  /** What the registry reads when scraped (the shape of prom-client's `Histogram.get`). */
  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: HistogramSample[] }> {
    const values: HistogramSample[] = [];
    for (const { labels, counts, sum, count } of this.series) {
      let cumulative = 0;
      for (const [i, bound] of this.bounds.entries()) {
        cumulative += counts[i];
        values.push({ labels: { le: bound, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { le: '+Inf', ...labels }, value: count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...labels }, value: sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  /** `Registry.resetMetrics` calls it. */
  reset(): void {
    this.index = new Map();
    this.series = [];
  }
}
