import { optionsFromEnv, runCampaign } from './campaign.js';
import { resumeKeycloak } from './faults.js';

/**
 * `npm run chaos`: the fault-injection campaign. Progress goes to stderr; stdout gets one line,
 * `faults N, operations N, acknowledged lost N, orphans N, stuck N`. Exit 0 only when the last
 * three are 0. Settings: CHAOS_OPERATIONS (500), CHAOS_FAULTS (50), CHAOS_SEED, CHAOS_INSTANCES (2),
 * CHAOS_CONCURRENCY (4), CHAOS_INSTANCE_PAUSE_MS (12000), CHAOS_KEYCLOAK_PAUSE_MS (5000), and
 * KEYSMITH_SEED_ENV_FILE for the Keycloak to use (default .cache/keycloak/keysmith.env).
 */
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    resumeKeycloak();
    process.exit(130);
  });
}

const started = Date.now();
const result = await runCampaign(optionsFromEnv(process.env, (line) => process.stderr.write(`${line}\n`)));
process.stderr.write(`chaos: ${Math.round((Date.now() - started) / 1000)} s\n`);
process.stdout.write(`${result.line}\n`);
process.exitCode = result.lost === 0 && result.orphans === 0 && result.stuck === 0 ? 0 : 1;
