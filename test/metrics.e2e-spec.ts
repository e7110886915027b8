import { RESERVED_LABELS } from '../src/common/metrics/metrics.registry.js';
import { authenticateSuite } from './support/auth.js';
import { runJob } from './support/jobs.js';
import { parsePrometheusText, type Family } from './support/prometheus-text.js';
import { expectNoSecretInLogs } from './support/secret-scan.js';
import { createTestApp, type TestApp } from './support/test-app.js';

describe('GET /metrics as Prometheus scrapes it', () => {
  let t: TestApp;
  let families: Map<string, Family>;

  beforeAll(async () => {
    t = await createTestApp();
    await authenticateSuite(t);
    await runJob(t, 'drift');
    await t.inject({ method: 'GET', url: '/v1/jobs/drift/runs?limit=1' });
    await t.inject({ method: 'GET', url: '/v1/api-keys/key_doesnotexist0000000000' });
    const res = await t.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    families = parsePrometheusText(res.body);
  });
  afterAll(() => t.close());

  const samplesOf = (name: string) => families.get(name)?.samples ?? [];

  it('is valid text exposition format with HELP and TYPE for every Keysmith family', () => {
    const keysmith = [...families.values()].filter((family) => family.name.startsWith('keysmith_'));
    expect(keysmith.length).toBeGreaterThanOrEqual(8);
    for (const family of keysmith) {
      expect(family.help).not.toBe('');
      expect(['counter', 'gauge', 'histogram']).toContain(family.type);
    }
  });

  it('uses no label that Prometheus reserves (job, instance, le outside histograms, quantile, __*)', () => {
    const offending = [...families.values()].flatMap((family) =>
      family.samples.flatMap((sample) =>
        Object.keys(sample.labels)
          .filter((label) => label.startsWith('__') || (RESERVED_LABELS.includes(label) && !(label === 'le' && family.type === 'histogram' && sample.name.endsWith('_bucket'))))
          .map((label) => `${sample.name}{${label}}`),
      ),
    );
    expect(offending).toEqual([]);
  });

  it('names the job in job_name', () => {
    expect(samplesOf('keysmith_job_runs_total')).toEqual(
      expect.arrayContaining([{ name: 'keysmith_job_runs_total', labels: { job_name: 'drift', outcome: 'success' }, value: 1 }]),
    );
    const sinceSuccess = samplesOf('keysmith_job_seconds_since_last_success').find((sample) => sample.labels.job_name === 'drift');
    expect(sinceSuccess?.value).toBeGreaterThanOrEqual(0);
    expect(Object.keys(sinceSuccess!.labels)).toEqual(['job_name']);
  });

  it('labels HTTP durations by route pattern, never by a raw path holding an id', () => {
    const routes = new Set(samplesOf('keysmith_http_request_duration_seconds').map((sample) => sample.labels.route));
    expect([...routes]).toEqual(expect.arrayContaining(['/v1/jobs/:name/runs', '/v1/api-keys/:id']));
    expect([...routes].filter((route) => route.includes('key_doesnotexist') || route.includes('drift'))).toEqual([]);
  });

  it('logs none of the secrets, keys and tokens this suite saw', () => {
    expectNoSecretInLogs('metrics');
  });
});
