import { Histogram, Registry } from 'prom-client';
import { MetricsRegistry } from './metrics.registry.js';

const BUCKETS = [0.001, 0.01, 0.1];
const OBSERVED: Array<[Record<'method' | 'route', string>, number]> = [
  [{ method: 'GET', route: '/a' }, 0.0005],
  [{ method: 'GET', route: '/a' }, 0.001],
  [{ method: 'GET', route: '/a' }, 0.05],
  [{ method: 'GET', route: '/a' }, 3],
  [{ method: 'POST', route: '/b' }, 0.02],
];

/** The exposition lines of a registry, without HELP and TYPE and the default metrics. */
async function samples(registry: Registry, name: string): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((line) => line.startsWith(name));
}

describe('MetricsRegistry.histogramTally', () => {
  it("is exposed exactly as prom-client's Histogram given the same observations", async () => {
    const metrics = new MetricsRegistry();
    const tally = metrics.histogramTally('test_duration_seconds', 'Durations', ['method', 'route'], BUCKETS);
    const reference = new Registry();
    const histogram = new Histogram({ name: 'test_duration_seconds', help: 'Durations', labelNames: ['method', 'route'], buckets: BUCKETS, registers: [reference] });
    for (const [labels, value] of OBSERVED) {
      tally.observe(labels, value);
      histogram.observe(labels, value);
    }

    const ours = await samples(metrics.registry, 'test_duration_seconds');
    expect(ours).toEqual(await samples(reference, 'test_duration_seconds'));
    expect(ours).toContain('test_duration_seconds_bucket{le="0.001",method="GET",route="/a"} 2');
    expect(ours).toContain('test_duration_seconds_bucket{le="+Inf",method="GET",route="/a"} 4');
    expect(ours).toContain('test_duration_seconds_count{method="POST",route="/b"} 1');
    expect(await metrics.registry.metrics()).toContain('# TYPE test_duration_seconds histogram');
  });

  it('reads the same in JSON, is emptied by resetMetrics, and skips a value that is not a number', async () => {
    const metrics = new MetricsRegistry();
    const tally = metrics.histogramTally('test_json_seconds', 'Durations', ['route'], BUCKETS);
    tally.observe({ route: '/a' }, Number.NaN);
    tally.observe({ route: '/a' }, 0.5);
    const json = (await metrics.registry.getMetricsAsJSON()).find((metric) => metric.name === 'test_json_seconds');
    expect(json?.type).toBe('histogram');
    expect(json?.values).toContainEqual({ labels: { route: '/a' }, value: 1, metricName: 'test_json_seconds_count' });
    expect(json?.values).toContainEqual({ labels: { route: '/a' }, value: 0.5, metricName: 'test_json_seconds_sum' });

    metrics.registry.resetMetrics();
    expect(await samples(metrics.registry, 'test_json_seconds')).toEqual([]);
  });

  it('returns the same tally when asked twice for a name, and refuses reserved labels', () => {
    const metrics = new MetricsRegistry();
    expect(metrics.histogramTally('test_twice_seconds', 'Twice', ['route'], BUCKETS)).toBe(metrics.histogramTally('test_twice_seconds', 'Twice', ['route'], BUCKETS));
    expect(() => metrics.histogramTally('test_bad_seconds', 'Bad', ['le'], BUCKETS)).toThrow(/reserved/);
  });
});

describe('HistogramTally without labels', () => {
  it('keeps one series', async () => {
    const metrics = new MetricsRegistry();
    const tally = metrics.histogramTally('test_plain_seconds', 'Plain', [], BUCKETS);
    tally.observe({}, 0.005);
    tally.observe({}, 0.05);
    const lines = await samples(metrics.registry, 'test_plain_seconds');
    expect(lines).toContain('test_plain_seconds_bucket{le="0.01"} 1');
    expect(lines).toContain('test_plain_seconds_count 2');
  });
});
