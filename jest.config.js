/** Tests say their kind in their name: *.unit.spec.ts need no server, *.int.spec.ts talk to real Kafka and Postgres. */
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/**/*.unit.spec.ts'], testPathIgnorePatterns: ['/node_modules/', '/.cache/'] },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/**/*.int.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '/.cache/'],
      globalSetup: '<rootDir>/test/globalSetup.ts',
      setupFilesAfterEnv: ['<rootDir>/test/intTimeout.ts'],
    },
  ],
};
