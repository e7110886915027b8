import type { TestApp } from './test-app.js';

/** Starts a job through the API and waits for its run record to finish. */
export async function runJob(t: TestApp, job: string, payload: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const started = await t.inject({ method: 'POST', url: `/v1/jobs/${job}/run`, payload, headers });
  if (started.statusCode !== 202) throw new Error(`starting ${job}: ${started.statusCode} ${started.body}`);
  const { runId } = started.json();
  for (let i = 0; i < 400; i += 1) {
    const run = await t.inject({ method: 'GET', url: `/v1/jobs/${job}/runs/${runId}`, headers });
    if (run.json().outcome !== 'running') return run.json();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${job} run ${runId} did not finish`);
}
