// Steadier figures: pin the load generator and the servers to different cores, warm both sides,
// alternate baseline and subject round by round with every subject run between two baseline runs,
// and report each figure as the median of its rounds with the spread (lowest-highest).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import autocannon from 'autocannon';

export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
export const DURATION = Number(process.env.BENCH_DURATION ?? 5);
export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

let taskset;
function hasTaskset() {
  if (taskset === undefined) {
    try {
      execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
      taskset = availableParallelism() >= 2 && process.env.BENCH_PIN !== 'off';
    } catch {
      taskset = false;
    }
  }
  return taskset;
}

/** Where the load generator runs (core 0) and where servers run (the other cores). */
export function pin(pid, role) {
  if (!hasTaskset()) return false;
  const cores = availableParallelism();
  const list = role === 'load' ? '0' : cores > 2 ? `1-${cores - 1}` : '1';
  execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
  return true;
}

export function pinning() {
  return hasTaskset() ? `load generator on core 0, servers on core${availableParallelism() > 2 ? 's 1-' + (availableParallelism() - 1) : ' 1'}` : 'no pinning (taskset missing, one core, or BENCH_PIN=off)';
}

/** One autocannon run; `requests` as autocannon takes them. */
export function load(options) {
  return new Promise((resolve, reject) => {
    const length = options.amount ? {} : { duration: options.duration ?? DURATION };
    autocannon({ connections: CONNECTIONS, ...length, ...options }, (error, result) => {
      if (error) reject(error);
      else resolve({ rps: result.requests.average, mean: result.latency.mean, p50: result.latency.p50, p99: result.latency.p99, bad: result.non2xx + result.errors, total: result.requests.total });
    });
  });
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** `median (low-high)` of a list of numbers. */
export function spread(values, digits = 2) {
  const f = (n) => n.toFixed(digits);
  return `${f(median(values))} (${f(Math.min(...values))}-${f(Math.max(...values))})`;
}

/**
 * Waits until none of `pids` uses more than a tenth of a core (or 15 s have passed). A server can
 * go on working after its load stops: Keysmith writes the last-use times of the keys it verified
 * every few seconds, for up to 100k keys after a cycled run, and that took the next baseline run's
 * core for 2-3 s (its throughput read low, Keysmith's ratio high). No-op without /proc.
 */
export async function settle(pids) {
  const until = performance.now() + 15_000;
  while (performance.now() < until) {
    const before = pids.map(cpuSeconds);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const busy = pids.some((pid, i) => cpuSeconds(pid) - before[i] > 0.025);
    if (!busy) return;
  }
}

/**
 * Runs `baseline` and `subject` alternately for ROUNDS rounds (after one unmeasured warm-up of
 * each), then the baseline once more, and returns the rounds' results and ratios. Each subject
 * run sits between two baseline runs, and its ratio (subject / baseline throughput) and added p99
 * are taken against their mean: a machine that drifts steadily faster or slower over a round
 * moves both sides alike, so the drift cancels instead of landing in the ratio. With `pids` (the
 * servers' process ids), every run starts once the servers are quiet (see `settle`).
 */
export async function alternate(baseline, subject, { warm = true, pids = [] } = {}) {
  const run = async (side, warmUp) => {
    await settle(pids);
    return side(warmUp);
  };
  if (warm) {
    await run(baseline, true);
    await run(subject, true);
  }
  const bases = [await run(baseline, false)];
  const subs = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    subs.push(await run(subject, false));
    bases.push(await run(baseline, false));
  }
  return subs.map((sub, i) => {
    const before = bases[i];
    const after = bases[i + 1];
    const base = { ...before, rps: (before.rps + after.rps) / 2, p99: (before.p99 + after.p99) / 2 };
    return { base, sub, ratio: sub.rps / base.rps, p99Added: sub.p99 - base.p99 };
  });
}

/** CPU seconds (user + system, every thread) a process has used, from /proc/<pid>/stat; NaN without /proc. */
export function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * The CPU cost per request of two servers loaded at the same time: both run on the same core(s)
 * (see `pin`), so a machine that turns slower or faster mid-run (other tenants, frequency) slows
 * both alike, within the round, where alternating rounds only cancel drift between rounds. Each
 * side is `{ pid, run }` with `run(warm)` a load function as `alternate` takes. Returns per round
 * the microseconds of CPU per request on each side and `cost` = baseline's / subject's: the
 * throughput ratio the subject would reach if each had a core to itself. Work a server does after
 * a round (Keysmith's last-use writes) lands in its next round, so it is counted as its own cost.
 * Needs /proc (NaN without).
 */
export async function together(baseline, subject) {
  await settle([baseline.pid, subject.pid]);
  await Promise.all([baseline.run(true), subject.run(true)]);
  const rounds = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    const before = [cpuSeconds(baseline.pid), cpuSeconds(subject.pid)];
    const [base, sub] = await Promise.all([baseline.run(false), subject.run(false)]);
    const baseUs = ((cpuSeconds(baseline.pid) - before[0]) / base.total) * 1e6;
    const subUs = ((cpuSeconds(subject.pid) - before[1]) / sub.total) * 1e6;
    rounds.push({ baseUs, subUs, cost: baseUs / subUs, bad: base.bad + sub.bad });
  }
  return rounds;
}

/** One table line: throughput and p99 medians with spreads, and the ratio. */
export function row(title, rounds, goal = '', costs = null) {
  const rps = rounds.map((r) => r.sub.rps);
  const p99 = rounds.map((r) => r.sub.p99);
  // Non-2xx answers of the measured runs, the cost rounds' (either side) included.
  const bad = rounds.reduce((sum, r) => sum + r.sub.bad, 0) + (costs ?? []).reduce((sum, r) => sum + r.bad, 0);
  const ratio = rounds.map((r) => r.ratio);
  const cost = costs ? spread(costs.map((r) => r.cost)) : '';
  console.log(
    `${title.padEnd(46)} ${spread(rps, 0).padStart(20)} ${spread(p99, 0).padStart(14)} ${spread(ratio).padStart(17)} ${cost.padStart(17)} ${String(bad).padStart(7)}  ${goal}`,
  );
}

export function header(baselineTitle, rounds) {
  console.log(`${'scenario'.padEnd(46)} ${'req/s'.padStart(20)} ${'p99 ms'.padStart(14)} ${'ratio'.padStart(17)} ${'cost ratio'.padStart(17)} ${'non-2xx'.padStart(7)}  goal`);
  const rps = rounds.map((r) => r.base.rps);
  const p99 = rounds.map((r) => r.base.p99);
  console.log(`${baselineTitle.padEnd(46)} ${spread(rps, 0).padStart(20)} ${spread(p99, 0).padStart(14)} ${'1'.padStart(17)} ${'1'.padStart(17)}`);
}
