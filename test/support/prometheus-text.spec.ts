import { parsePrometheusText } from './prometheus-text.js';

describe('parsePrometheusText (the strict reader the metrics test uses)', () => {
  it('reads families, escaped label values and special values', () => {
    const families = parsePrometheusText(
      '# HELP a_total A.\n# TYPE a_total counter\na_total{x="q\\"uote\\\\",y="line\\nfeed"} 3\n' +
        '# HELP h H.\n# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 0.5\nh_count 2\n# HELP g G.\n# TYPE g gauge\ng NaN 1700000000000\n',
    );
    expect(families.get('a_total')?.samples).toEqual([{ name: 'a_total', labels: { x: 'q"uote\\', y: 'line\nfeed' }, value: 3 }]);
    expect(families.get('h')?.samples.map((s) => s.name)).toEqual(['h_bucket', 'h_sum', 'h_count']);
    expect(families.get('g')?.samples[0].value).toBeNaN();
  });

  it('reads NaN and Inf in any case, as Prometheus does (prom-client writes Nan)', () => {
    const families = parsePrometheusText('# HELP g G.\n# TYPE g gauge\ng{i="1"} Nan\ng{i="2"} nan\ng{i="3"} +inf\ng{i="4"} -Inf\ng{i="5"} Infinity\n');
    expect(families.get('g')?.samples.map((s) => s.value)).toEqual([NaN, NaN, Infinity, -Infinity, Infinity]);
    expect(() => parsePrometheusText('# TYPE g gauge\ng NaNa\n')).toThrow(/not a number/);
  });

  it.each([
    ['a sample without a family', 'x 1\n', /no HELP\/TYPE family/],
    ['a bad escape', '# TYPE a gauge\na{x="\\t"} 1\n', /bad escape/],
    ['a duplicate series', '# TYPE a gauge\na{x="1"} 1\na{x="1"} 2\n', /duplicate series/],
    ['a value that is not a number', '# TYPE a gauge\na one\n', /not a number/],
    ['a missing final line feed', '# TYPE a gauge\na 1', /line feed/],
    ['an unknown type', '# TYPE a meter\n', /bad type/],
    ['a label given twice', '# TYPE a gauge\na{x="1",x="2"} 1\n', /twice/],
  ])('refuses %s', (_, text, error) => {
    expect(() => parsePrometheusText(text)).toThrow(error);
  });
});
