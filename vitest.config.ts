import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (pure logic, no servers) and `integration` (real Kafka and ClickHouse,
 * started by the global setup unless KAFKA_BROKERS and CLICKHOUSE_URL point at a stack).
 * Integration files end in `.int.test.ts`.
 */
const exclude = ['**/node_modules/**', '**/dist/**', '.local/**'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // Unit tests first, then integration (vitest needs distinct group orders for projects with different worker counts).
          sequence: { groupOrder: 0 },
          include: [
            'packages/*/src/**/*.test.ts',
            'services/*/src/**/*.test.ts',
            'packages/*/test/**/*.test.ts',
            'services/*/test/**/*.test.ts',
            'test/**/*.test.ts',
          ],
          exclude: [...exclude, '**/*.int.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['**/*.int.test.ts'],
          exclude,
          globalSetup: ['packages/stack/src/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // Two cores: integration files share one broker and one ClickHouse server.
          maxWorkers: 2,
        },
      },
    ],
  },
});
