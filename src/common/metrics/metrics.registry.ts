import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import { HistogramTally } from './histogram-tally.js';
import { Tally } from './tally.js';

/**
 * Label names a target must not expose: Prometheus sets `job` and `instance` itself (a clash
 * renames ours to `exported_job`), `le` and `quantile` belong to histograms and summaries, and
 * names starting with `__` are reserved.
 */
export const RESERVED_LABELS = ['job', 'instance', 'le', 'quantile'];

function checkLabels(name: string, labelNames: readonly string[]): void {
  const bad = labelNames.filter((label) => RESERVED_LABELS.includes(label) || label.startsWith('__'));
  if (bad.length > 0) throw new Error(`metric ${name}: label ${bad.join(', ')} is reserved by Prometheus; use e.g. ${bad[0].replace(/^_+/, '')}_name`);
}

/**
 * The Prometheus registry of this process. Features ask it for their metrics by name; asking
 * twice for one name returns the same metric, so modules can be created more than once in tests.
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();
  private readonly tallies = new Map<string, Tally<string>>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string>(name: string, help: string, labelNames: L[] = []): Counter<L> {
    checkLabels(name, labelNames);
    return (this.registry.getSingleMetric(name) as Counter<L>) ?? new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  /**
   * A counter for per-request paths: counted in memory, added to the Prometheus counter `name` when
   * it is scraped (see Tally). Asking twice for one name returns the same tally.
   */
  tally<L extends string>(name: string, help: string, labelNames: L[] = []): Tally<L> {
    const known = this.tallies.get(name);
    if (known) return known as Tally<L>;
    checkLabels(name, labelNames);
    const tally = new Tally<L>(labelNames);
    this.tallies.set(name, tally);
    new Counter<L>({ name, help, labelNames, registers: [this.registry], collect(this: Counter<L>) { tally.flushTo(this); } });
    return tally;
  }

  gauge<L extends string>(name: string, help: string, labelNames: L[] = [], collect?: (gauge: Gauge<L>) => void | Promise<void>): Gauge<L> {
    checkLabels(name, labelNames);
    return (
      (this.registry.getSingleMetric(name) as Gauge<L>) ??
      new Gauge({
        name,
        help,
        labelNames,
        registers: [this.registry],
        ...(collect ? { collect(this: Gauge<L>) { return collect(this); } } : {}),
      })
    );
  }

  histogram<L extends string>(name: string, help: string, labelNames: L[], buckets: number[]): Histogram<L> {
    checkLabels(name, labelNames);
    return (this.registry.getSingleMetric(name) as Histogram<L>) ?? new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  /**
   * A histogram for per-request paths (see HistogramTally): the same exposition as `histogram`,
   * for less CPU per observation. Asking twice for one name returns the same one.
   */
  histogramTally<L extends string>(name: string, help: string, labelNames: L[], buckets: number[]): HistogramTally<L> {
    const known = this.registry.getSingleMetric(name) as unknown;
    if (known instanceof HistogramTally) return known as HistogramTally<L>;
    checkLabels(name, labelNames);
    const tally = new HistogramTally<L>(name, help, labelNames, buckets);
    // The registry reads a metric through `name`, `help`, `type`, `get` and `reset` only.
    this.registry.registerMetric(tally as unknown as Metric);
    return tally;
  }
}
