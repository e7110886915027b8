// Summarises a V8 .cpuprofile of the Keysmith bench server: the top frames by self time, counted
// from the first sample inside the path measured (start-up and seeding left out): the verification
// path by default, or the file named by FROM (provisioning: provision-account.usecase).
// `node bench/support/profile-top.mjs FILE [N] [FROM]`.
import { readFileSync } from 'node:fs';

const [file, count = '10', from = 'api-key-verification.service'] = process.argv.slice(2);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const inVerification = (id) => {
  for (let at = id; at !== undefined; at = parent.get(at)) if ((byId.get(at).callFrame.url ?? '').includes(from)) return true;
  return false;
};
const selfTime = new Map();
const dt = profile.timeDeltas;
let counting = false;
for (let i = 0; i < profile.samples.length; i += 1) {
  counting ||= inVerification(profile.samples[i]);
  if (counting) selfTime.set(profile.samples[i], (selfTime.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
}
const total = [...selfTime.values()].reduce((a, b) => a + b, 0);
const name = (node) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
};
const bySelf = new Map();
for (const [id, time] of selfTime) {
  const key = name(byId.get(id));
  bySelf.set(key, (bySelf.get(key) ?? 0) + time);
}
const idle = (key) => key.startsWith('(idle)') || key.startsWith('(program)') || key.startsWith('(garbage collector)');
const busy = total - [...bySelf].filter(([key]) => idle(key) && !key.startsWith('(garbage')).reduce((a, [, t]) => a + t, 0);
console.log(`${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy; top ${count} frames by self time (share of busy time):`);
for (const [key, time] of [...bySelf].filter(([key]) => !idle(key) || key.startsWith('(garbage')).sort((a, b) => b[1] - a[1]).slice(0, Number(count))) {
  console.log(`${((time / busy) * 100).toFixed(1).padStart(5)} %  ${key}`);
}
