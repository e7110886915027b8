import { MetricsRegistry } from './metrics.registry.js';

describe('MetricsRegistry.tally', () => {
  it('adds what was counted to the Prometheus counter when it is scraped, once', async () => {
    const metrics = new MetricsRegistry();
    const tally = metrics.tally('test_things_total', 'Things by outcome', ['outcome', 'cache']);
    tally.inc({ outcome: 'ok', cache: 'hit' });
    tally.inc({ outcome: 'ok', cache: 'hit' });
    tally.inc({ outcome: 'refused', cache: 'miss' });
    const first = await metrics.registry.metrics();
    expect(first).toContain('test_things_total{outcome="ok",cache="hit"} 2');
    expect(first).toContain('test_things_total{outcome="refused",cache="miss"} 1');

    tally.inc({ outcome: 'ok', cache: 'hit' });
    const second = await metrics.registry.metrics();
    expect(second).toContain('test_things_total{outcome="ok",cache="hit"} 3');
    expect(second).toContain('test_things_total{outcome="refused",cache="miss"} 1');
  });

  it('counts through a kept cell into the same series as inc with the same labels', async () => {
    const metrics = new MetricsRegistry();
    const tally = metrics.tally('test_cells_total', 'Cells by outcome', ['outcome', 'cache']);
    const hit = tally.cell({ outcome: 'ok', cache: 'hit' });
    expect(tally.cell({ cache: 'hit', outcome: 'ok' })).toBe(hit);
    hit.inc();
    hit.inc();
    tally.inc({ outcome: 'ok', cache: 'hit' });
    expect(await metrics.registry.metrics()).toContain('test_cells_total{outcome="ok",cache="hit"} 3');
    hit.inc();
    expect(await metrics.registry.metrics()).toContain('test_cells_total{outcome="ok",cache="hit"} 4');
  });

  it('returns the same tally when asked twice for a name, and refuses reserved labels', () => {
    const metrics = new MetricsRegistry();
    expect(metrics.tally('test_twice_total', 'Twice', ['outcome'])).toBe(metrics.tally('test_twice_total', 'Twice', ['outcome']));
    expect(() => metrics.tally('test_bad_total', 'Bad', ['job'])).toThrow(/reserved/);
  });
});
