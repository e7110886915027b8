// API-key verification throughput and latency on loopback (autocannon, 50 connections), each
// figure against a bare Fastify route doing the same HMAC + Map lookup, measured in alternating
// rounds (see support/measure.mjs): POST /v1/api-keys/verify and GET /v1/auth/check with one hot
// key, with all BENCH_KEYS keys cycled (every request a different key), and verify called with a
// Keycloak JWT as the caller's credential (with its floor: the baseline server given the same
// request and hashing the token). Each row also gets a cost ratio: both servers loaded at the same
// time on the same core, their CPU time per request compared (support/measure.mjs `together`).
// Then the start-up load of the key index and the process memory with BENCH_KEYS and
// BENCH_PADDED_KEYS keys.
// Needs `npm run build` and the local Keycloak (scripts/keycloak.sh start).
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminToken, benchKeysmithEnv } from './support.mjs';
import { alternate, CONNECTIONS, DURATION, header, load, pin, pinning, ROUNDS, row, together } from './support/measure.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const KEYS = Number(process.env.BENCH_KEYS ?? 100_000);
const PADDED_TO = Number(process.env.BENCH_PADDED_KEYS ?? 1_000_000);

function start(script, env) {
  const profile = process.env.BENCH_CPU_PROF && script.startsWith('keysmith') ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = fork(join(here, 'support', script), [], { env, execArgv: ['--expose-gc', ...profile], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  pin(child.pid, 'server');
  const waiters = [];
  child.on('message', (message) => waiters.shift()?.(message));
  const next = () => new Promise((resolve) => waiters.push(resolve));
  return { child, next, send: (message) => { child.send(message); return next(); } };
}

function cycling(method, path, build) {
  let i = 0;
  return [{ method, path, setupRequest: (request) => build(request, i++) }];
}

/** A load function for `alternate`: a warm-up run is shorter and not measured. */
const runner = (url, requests, headers) => (warm) => load({ url, requests, headers, duration: warm ? Math.max(2, DURATION / 2) : DURATION });

export default async function apiKeysBench() {
  const dataDir = mkdtempSync(join(tmpdir(), 'keysmith-bench-'));
  // Measure verification alone: no scheduled job (start-up catch-up) runs beside it.
  const env = { ...process.env, ...benchKeysmithEnv(dataDir) };
  pin(process.pid, 'load');
  const baseline = start('baseline-server.mjs', env);
  const keysmith = start('keysmith-server.mjs', env);
  try {
    const [{ port: basePort }, { port }] = await Promise.all([baseline.next(), keysmith.next()]);
    const { keys } = await keysmith.send({ cmd: 'seed', count: KEYS });
    await baseline.send({ cmd: 'keys', keys });
    const loaded100k = await keysmith.send({ cmd: 'load-index' });
    const memory100k = await keysmith.send({ cmd: 'memory' });
    const base = `http://127.0.0.1:${port}`;
    const bare = `http://127.0.0.1:${basePort}`;
    const json = { 'content-type': 'application/json' };
    const caller = { 'x-api-key': keys[0] };
    const hot = keys[1];
    // Keycloak's tokens live 5 minutes: the JWT-caller rows take a new one when they start (below).
    const jwtCaller = { ...json, authorization: '' };
    const other = (i) => keys[1 + (i % (keys.length - 1))];

    const bareVerify = runner(`${bare}/verify`, [{ method: 'POST', path: '/verify', headers: json, body: JSON.stringify({ key: hot }) }]);
    const bareCheck = runner(`${bare}/check`, [{ method: 'GET', path: '/check', headers: { 'x-api-key': hot } }]);
    const bareVerifyMiss = runner(`${bare}/verify`, cycling('POST', '/verify', (r, i) => ({ ...r, headers: json, body: JSON.stringify({ key: other(i) }) })));
    const bareCheckMiss = runner(`${bare}/check`, cycling('GET', '/check', (r, i) => ({ ...r, headers: { 'x-api-key': other(i) } })));

    const scenarios = [
      ['POST /v1/api-keys/verify, hit', bareVerify, runner(base, [{ method: 'POST', path: '/v1/api-keys/verify', headers: { ...json, ...caller }, body: JSON.stringify({ key: hot }) }]), '>= 0.8, p99 <= 5 ms'],
      ['GET /v1/auth/check, hit', bareCheck, runner(base, [{ method: 'GET', path: '/v1/auth/check', headers: { 'x-api-key': hot } }]), '>= 0.9, p99 <= 5 ms'],
      [
        `POST /v1/api-keys/verify, ${KEYS / 1000}k keys cycled`,
        bareVerifyMiss,
        runner(base, cycling('POST', '/v1/api-keys/verify', (r, i) => ({ ...r, headers: { ...json, ...caller }, body: JSON.stringify({ key: other(i) }) }))),
        '>= 0.7',
      ],
      [`GET /v1/auth/check, ${KEYS / 1000}k keys cycled`, bareCheckMiss, runner(base, cycling('GET', '/v1/auth/check', (r, i) => ({ ...r, headers: { 'x-api-key': other(i) } }))), '>= 0.7'],
      [
        'POST /v1/api-keys/verify, Keycloak JWT caller',
        bareVerify,
        runner(base, [{ method: 'POST', path: '/v1/api-keys/verify', headers: jwtCaller, body: JSON.stringify({ key: hot }) }]),
        '>= 0.8',
      ],
    ];
    const pids = [baseline.child.pid, keysmith.child.pid];
    const only = process.env.BENCH_SCENARIOS ? new RegExp(process.env.BENCH_SCENARIOS) : null;
    const results = [];
    for (const [title, baseRun, subjectRun, goal] of scenarios) {
      if (only && !only.test(title)) continue;
      if (title.includes('JWT caller')) jwtCaller.authorization = `Bearer ${await adminToken()}`;
      const rounds = await alternate(baseRun, subjectRun, { pids });
      const costs = await together({ pid: baseline.child.pid, run: baseRun }, { pid: keysmith.child.pid, run: subjectRun });
      results.push([title, rounds, goal, costs]);
    }
    // The floor of the JWT-caller row: the baseline server receiving the same request, the token in
    // its header, and looking the token up by its hash before the HMAC + Map; no Keysmith code.
    let jwtFloor;
    if (!only || only.test('JWT caller')) {
      const bareVerifyJwt = runner(`${bare}/verify-jwt`, [{ method: 'POST', path: '/verify-jwt', headers: { ...json, authorization: `Bearer ${await adminToken()}` }, body: JSON.stringify({ key: hot }) }]);
      jwtFloor = await alternate(bareVerify, bareVerifyJwt, { pids });
    }

    console.log(`\nAPI-key verification, ${KEYS.toLocaleString('en')} keys stored, ${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${DURATION} s; ${pinning()}`);
    console.log('medians, with the spread of the rounds in brackets; ratio = Keysmith / baseline of the same round (throughput, alternating runs);');
    console.log('cost ratio = baseline / Keysmith CPU time per request, both loaded at the same time on the same core (steadier; see README)');
    if (results.length) header('baseline: bare Fastify, HMAC + Map (first scenario)', results[0][1]);
    for (const [title, rounds, goal, costs] of results) row(title, rounds, goal, costs);
    if (jwtFloor) row('  floor: bare Fastify, same JWT request, hashed', jwtFloor, '(no Keysmith code)');

    const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
    const lines = [`${memory100k.rows.toLocaleString('en').padStart(10)} keys stored: ${loaded100k.size.toLocaleString('en')} indexed in ${(loaded100k.ms / 1000).toFixed(1)} s, rss ${mb(memory100k.rss)}, heap used ${mb(memory100k.heapUsed)}`];
    if (PADDED_TO > KEYS) {
      await keysmith.send({ cmd: 'pad', count: PADDED_TO - KEYS });
      const loaded = await keysmith.send({ cmd: 'load-index' });
      await load({ url: `${base}/v1/auth/check`, headers: { 'x-api-key': hot }, duration: 1 });
      const memory = await keysmith.send({ cmd: 'memory' });
      lines.push(`${memory.rows.toLocaleString('en').padStart(10)} keys stored: ${loaded.size.toLocaleString('en')} indexed (${(loaded.ms / 1000).toFixed(1)} s for the rest), rss ${mb(memory.rss)}, heap used ${mb(memory.heapUsed)}`);
    }
    console.log('\nKeysmith process memory (after GC) with every live key in the index');
    for (const line of lines) console.log(line);
  } finally {
    baseline.child.kill();
    keysmith.child.kill();
    await new Promise((resolve) => setTimeout(resolve, 500));
    rmSync(dataDir, { recursive: true, force: true });
  }
}
