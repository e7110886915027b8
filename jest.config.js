// Jest runs TypeScript as native ESM (Nest 12 and the Keycloak admin client ship ESM only).
// Run through the npm scripts: they set NODE_OPTIONS=--experimental-vm-modules.
const tsJest = [
  'ts-jest',
  { useESM: true, tsconfig: 'tsconfig.json' },
];

const shared = {
  extensionsToTreatAsEsm: ['.ts'],
  // Sources import siblings as `./x.js` (nodenext); jest resolves the `.ts` file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': tsJest },
  testEnvironment: 'node',
};

export default {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/support/**/*.spec.ts', '<rootDir>/test/chaos/**/*.spec.ts'] },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      testTimeout: 120000,
    },
  ],
};
