// Layering rules, checked by `npx eslint .` (see README, Architecture). Two rules:
// - a feature imports another feature only through that feature's index.ts (its public surface);
// - the lower layers (common/, config/, database/) import no feature and none of the top-level files.
// Imports are relative (`../api-keys/index.js`), so each rule is a regex over the import path.

export const FEATURES = ['api-keys', 'audit', 'auth', 'gitops', 'health', 'jobs', 'keycloak', 'secrets', 'service-accounts', 'token-exchange', 'webhooks'];
export const LOWER_LAYERS = ['common', 'config', 'database'];
const TOP_LEVEL = ['app\\.module', 'app\\.ports', 'app\\.setup', 'cli', 'cli\\.commands', 'core\\.module', 'main'];
const alternatives = (names) => names.join('|');

function featureRule(feature) {
  const others = FEATURES.filter((name) => name !== feature);
  return {
    files: [`src/${feature}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          {
            regex: `^(\\.\\./)+(${alternatives(others)})/(?!index\\.js$)`,
            message: 'Import another feature only through its index.ts (its public surface), never its internals.',
          },
          {
            regex: `^(\\.\\./)+(${TOP_LEVEL.join('|')})\\.js$`,
            message: 'A feature never imports the top-level assembly (app module, port bindings, CLI entry).',
          },
        ],
      }],
    },
  };
}

const lowerLayerRule = {
  files: LOWER_LAYERS.map((layer) => `src/${layer}/**/*.ts`),
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [
        {
          regex: `^(\\.\\./)+(${alternatives(FEATURES)})(/|$)`,
          message: 'common/, config/ and database/ are lower layers: they never import a feature. Declare a port in the feature instead.',
        },
        {
          regex: `^(\\.\\./)+(${TOP_LEVEL.join('|')})\\.js$`,
          message: 'common/, config/ and database/ are lower layers: they never import the top-level assembly.',
        },
      ],
    }],
  },
};

/** Flat-config entries, one per feature and one for the lower layers. */
export const layerRules = [...FEATURES.map(featureRule), lowerLayerRule];
