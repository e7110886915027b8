import { MetricsRegistry, RESERVED_LABELS } from './metrics.registry.js';

describe('MetricsRegistry', () => {
  it.each(RESERVED_LABELS.concat('__name'))('refuses the reserved label %s', (label) => {
    const metrics = new MetricsRegistry();
    expect(() => metrics.counter('keysmith_test_total', 'test', [label])).toThrow(/reserved by Prometheus/);
    expect(() => metrics.gauge('keysmith_test', 'test', [label])).toThrow(/reserved by Prometheus/);
    expect(() => metrics.histogram('keysmith_test_seconds', 'test', [label], [1])).toThrow(/reserved by Prometheus/);
  });

  it('accepts job_name', async () => {
    const metrics = new MetricsRegistry();
    metrics.counter('keysmith_test_total', 'test', ['job_name']).inc({ job_name: 'drift' });
    expect(await metrics.registry.metrics()).toContain('keysmith_test_total{job_name="drift"} 1');
  });
});
