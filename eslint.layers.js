// Layering rules, checked by `npx eslint .` (see README, Architecture). Three rules:
// - a feature imports another feature only through that feature's index.ts (its public surface);
// - the lower layers (common/, config/, database/) import no feature and none of the top-level files;
// - the raw Keycloak admin client stays in src/keycloak: no other source file imports the client
//   library, and nothing outside src/keycloak (tests and benches included) imports keycloak-admin.ts.
//   Tests look at Keycloak through test/support/keycloak-admin.ts (the bootstrap admin), never
//   through Keysmith's own credentials.
// Imports are relative (`../api-keys/index.js`), so each rule is a regex over the import path.

export const FEATURES = ['api-keys', 'audit', 'auth', 'gitops', 'health', 'jobs', 'keycloak', 'secrets', 'service-accounts', 'token-exchange', 'webhooks'];
export const LOWER_LAYERS = ['common', 'config', 'database'];
const TOP_LEVEL = ['app\\.module', 'app\\.ports', 'app\\.setup', 'cli', 'cli\\.commands', 'core\\.module', 'main'];
const alternatives = (names) => names.join('|');

// The package and its subpaths (`.../lib/defs/clientRepresentation.js`: Keycloak's representations).
const ADMIN_CLIENT_PACKAGE = {
  regex: '^@keycloak/keycloak-admin-client(/|$)',
  message: 'Only src/keycloak talks to the Keycloak Admin API: call a gateway method (KeycloakClientsGateway) instead.',
};
const KEYCLOAK_ADMIN_FILE = {
  regex: '(^|/)keycloak/keycloak-admin\\.js$',
  message: 'KeycloakAdmin (the raw admin client) is private to src/keycloak: call a gateway method, or in tests test/support/keycloak-admin.ts.',
};

function featureRule(feature) {
  const others = FEATURES.filter((name) => name !== feature);
  return {
    files: [`src/${feature}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          ...(feature === 'keycloak' ? [] : [ADMIN_CLIENT_PACKAGE]),
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
        ADMIN_CLIENT_PACKAGE,
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

/** The top-level files (app module, port bindings, CLI entry) use no raw admin client either. */
const topLevelRule = {
  files: ['src/*.ts'],
  rules: { 'no-restricted-imports': ['error', { patterns: [ADMIN_CLIENT_PACKAGE, KEYCLOAK_ADMIN_FILE] }] },
};

/** Tests and benches may use the bootstrap admin (the client library) but never Keysmith's raw client. */
const outsideSourceRule = {
  files: ['test/**/*.ts', 'bench/**/*.{js,mjs,ts}', 'scripts/**/*.{js,mjs,ts}'],
  rules: { 'no-restricted-imports': ['error', { patterns: [KEYCLOAK_ADMIN_FILE] }] },
};

/** Flat-config entries: one per feature, one for the lower layers, the top level, and tests. */
export const layerRules = [...FEATURES.map(featureRule), lowerLayerRule, topLevelRule, outsideSourceRule];
