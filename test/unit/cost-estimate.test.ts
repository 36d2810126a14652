import { describe, expect, it } from 'vitest';
import { estimateMerge, estimateStreaming, rowBytes, SECONDS_PER_MONTH } from '../../shared/cost/estimate.js';
import { PRICES } from '../../shared/cost/prices.js';
import { offlineColumns } from '../../shared/features/definitions.js';
import { testRepo } from '../helpers/feature-fixtures.js';

const columns = offlineColumns(testRepo().view('route_stats'));
const input = (eventsPerSecond: number, rowsPerEvent = 1) => ({ eventsPerSecond, rowsPerEvent, columns, entities: 100_000 });
const line = (e: { lines: { item: string; usd: number }[] }, prefix: string) => e.lines.find((l) => l.item.startsWith(prefix))!.usd;

describe('ingest cost estimate (ctloop infra cost)', () => {
  it('prices Storage Write API bytes from the table spec and the rate', () => {
    const e = estimateStreaming(input(1000, 10));
    const bytes = 1000 * 10 * SECONDS_PER_MONTH * rowBytes(columns);
    expect(line(e, 'Storage Write API')).toBeCloseTo((bytes / 1024 ** 3) * PRICES.storageWriteApiPerGiB, 6);
    expect(e.totalUsd).toBeCloseTo(e.lines.reduce((n, l) => n + l.usd, 0), 6);
  });

  it('the streaming design issues no per-event DML, so it costs less than the MERGE design at 100, 1,000 and 10,000 events/s', () => {
    for (const n of [100, 1000, 10_000]) {
      const s = estimateStreaming(input(n));
      const m = estimateMerge(input(n));
      expect(s.lines.some((l) => l.item.startsWith('DML'))).toBe(false);
      expect(s.totalUsd).toBeLessThan(m.totalUsd);
    }
  });

  it('the MERGE design bills at least 10 MB per table reference, and warns past the DML limits', () => {
    const m = estimateMerge(input(1));
    const statements = SECONDS_PER_MONTH / 1;
    expect(line(m, 'DML')).toBeGreaterThanOrEqual((statements * 4 * PRICES.queryMinBytesPerTable / 1024 ** 4) * PRICES.queryPerTiB * 0.999);
    expect(estimateMerge(input(100)).warnings.join(' ')).toMatch(/1,500 INSERTs/);
  });
});
