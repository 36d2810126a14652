import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure logic, no processes or sockets) and `integration` (DuckDB files, emulators,
// functions-framework servers, the ZetaSQL analyzer). `npm test` runs both.
export default defineConfig({
  test: {
    // Emulators and DuckDB files are heavy on a 2-core machine: keep the file-level parallelism low.
    maxWorkers: 2,
    // A private TMPDIR per run, removed afterwards (see test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/contract/**/*.test.ts', 'test/infra/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
