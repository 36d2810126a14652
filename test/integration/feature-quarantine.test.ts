import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { ingestRows } from '../../shared/features/ingest.js';
import { loadFeatureFile } from '../../shared/features/load-file.js';
import { quarantinedRow, readQuarantine, splitReasons } from '../../shared/features/quarantine.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { startBigQueryTestWarehouse, type BigQueryTestWarehouse } from '../helpers/bigquery-standin.js';
import { duckStore, testRepo, withScratchOnline } from '../helpers/feature-fixtures.js';
import { analyzerUnavailableReason } from '../helpers/zetasql.js';

const repo = testRepo();
const T1 = new Date('2001-03-01T00:00:00Z');
const T2 = new Date('2001-03-02T00:00:00Z');

/** Quarantine two event batches (one per day) of route_stats and one of driver_stats; returns nothing. */
async function quarantineEvents(warehouse: Warehouse): Promise<void> {
  await withScratchOnline(async (online) => {
    const good = { origin: 'A', dest: 'B', event_ts: '2001-03-01T00:00:00Z', avg_delay: 1 };
    await ingestRows({ warehouse, online, repo, now: () => T1 }, { view: 'route_stats', sourceId: 'evt-1', createdAt: T1, rows: [good, { origin: 'A', dest: 'B', event_ts: 'soon', flights: 'many' }] });
    await ingestRows({ warehouse, online, repo, now: () => T2 }, {
      view: 'route_stats', sourceId: 'evt-2', createdAt: T2,
      // Twelve bad rows: indexes 0..11 sort as numbers (2 before 10), not as strings.
      rows: Array.from({ length: 12 }, (_, i) => ({ origin: `O${i}`, dest: 'B', event_ts: '2001-03-01T00:00:00Z', flights: `x${i}` })),
  });
  await ingestRows({ warehouse, online, repo, now: () => T2 }, { view: 'driver_stats', sourceId: 'evt-3', createdAt: T2, rows: [{ driver_id: 'abc', event_ts: '2001-03-01T00:00:00Z' }] });
  });
}

function quarantineSuite(name: string, setup: () => Promise<{ warehouse: Warehouse; cleanup(): Promise<void> }>) {
  describe(`reading the quarantine (${name})`, () => {
    let store: { warehouse: Warehouse; cleanup(): Promise<void> };
    beforeAll(async () => {
      store = await setup();
      await quarantineEvents(store.warehouse);
    });
    afterAll(() => store?.cleanup());

    it('returns every quarantined row with its source, row index, reasons and raw row, newest first', async () => {
      const res = await readQuarantine(store.warehouse, { limit: 100 });
      expect(res.total).toBe(14);
      expect(res.rows).toHaveLength(14);
      const first = res.rows.find((r) => r.sourceId === 'evt-1')!;
      expect(first).toEqual({
        view: 'route_stats', source: 'event', sourceId: 'evt-1', version: null, row: 1, line: null,
        reasons: ['event_ts: expected an ISO-8601 timestamp, got "soon"', 'flights: expected INT64, got "many"'],
        raw: { origin: 'A', dest: 'B', event_ts: 'soon', flights: 'many' }, quarantinedAt: T1.toISOString(),
      });
      expect(res.rows.at(-1)).toEqual(first); // the oldest comes last
      const evt2 = res.rows.filter((r) => r.sourceId === 'evt-2').map((r) => r.row);
      expect(evt2).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    });

    it('filters by view and time, and limits to the newest rows in row order', async () => {
      const driver = await readQuarantine(store.warehouse, { view: 'driver_stats', limit: 10 });
      expect(driver.total).toBe(1);
      expect(driver.rows[0]).toMatchObject({ view: 'driver_stats', sourceId: 'evt-3', row: 0, reasons: ['driver_id: expected INT64, got "abc"'] });
      const since = await readQuarantine(store.warehouse, { view: 'route_stats', since: T2, limit: 3 });
      expect(since.total).toBe(12);
      expect(since.rows.map((r) => r.row)).toEqual([0, 1, 2]);
      const later = await readQuarantine(store.warehouse, { since: new Date(T2.getTime() + 1), limit: 5 });
      expect(later).toEqual({ total: 0, rows: [] });
      await expect(readQuarantine(store.warehouse, { limit: 0 })).rejects.toThrow(/limit must be a whole number from 1 to 10000/);
    });
  });
}

quarantineSuite('DuckDB', async () => {
  const s = await duckStore();
  return { warehouse: s.warehouse, cleanup: s.cleanup };
});

const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`[feature-quarantine] BigQuery part skipped: ${unavailable}`);
if (!unavailable) {
  quarantineSuite('BigQuery, ZetaSQL-checked stand-in', async () => {
    const bq: BigQueryTestWarehouse = await startBigQueryTestWarehouse();
    await applyFeatureRepo(bq.warehouse, repo);
    return { warehouse: bq.warehouse, cleanup: () => bq.cleanup() };
  });
}

describe('file loads in the quarantine', () => {
  let s: Awaited<ReturnType<typeof duckStore>>;
  beforeAll(async () => {
    s = await duckStore();
  });
  afterAll(() => s?.cleanup());

  it('names the file, its version and the row', async () => {
    const file = join(s.dir, 'rows.csv');
    await writeFile(file, ['origin,dest,event_ts,flights', 'A,B,2001-03-01T00:00:00Z,1', 'A,B,2001-03-01T00:00:00Z,lots'].join('\n'));
    await loadFeatureFile({ warehouse: s.warehouse, online: s.online, objectStore: new LocalObjectStore(s.dir), repo }, { view: 'route_stats', uri: file });
    const { rows } = await readQuarantine(s.warehouse, { limit: 10 });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ source: 'file', sourceId: file, row: 1, reasons: ['flights: expected INT64, got "lots"'], raw: { origin: 'A', flights: 'lots' } });
    expect(rows[0]).toMatchObject({ line: 3, version: expect.stringMatching(/^[0-9a-f]{16,}$/) });
  });

  it('answers nothing, not an error, before the tables exist', async () => {
    const empty = await duckStore();
    try {
      await empty.warehouse.dropTable('_quarantine');
      expect(await readQuarantine(empty.warehouse, { limit: 5 })).toEqual({ total: 0, rows: [] });
    } finally {
      await empty.cleanup();
    }
  });
});

describe('quarantinedRow: the source of a stored record', () => {
  const at = new Date('2001-03-01T00:00:00Z');
  const stored = (eventId: string, ingestId: string, reason: string) =>
    quarantinedRow({ view: 'v', event_id: eventId, ingest_id: ingestId, reason, raw: '{"a":1}', quarantined_at: at });

  it('reads an event, a content-keyed file load with its line, and a path@version file load', () => {
    expect(stored('6f1c-2', '6f1c-2:7', 'a: bad')).toEqual({ view: 'v', source: 'event', sourceId: '6f1c-2', version: null, row: 7, line: null, reasons: ['a: bad'], raw: { a: 1 }, quarantinedAt: at.toISOString() });
    expect(stored('gs://b/in/x.csv', 'file:ab12:41', 'line 43: a: bad; b: worse')).toMatchObject({ source: 'file', sourceId: 'gs://b/in/x.csv', version: 'ab12', row: 41, line: 43, reasons: ['a: bad', 'b: worse'] });
    expect(stored('/in/x.parquet', 'file:cd34:0', 'row 1: a: bad')).toMatchObject({ source: 'file', sourceId: '/in/x.parquet', version: 'cd34', row: 0, line: null, reasons: ['a: bad'] });
    expect(stored('in/x.csv@981', 'in/x.csv@981:2', 'a: bad')).toMatchObject({ source: 'file', sourceId: 'in/x.csv', version: '981', row: 2, line: null });
    expect(stored('user@example', 'user@example:0', 'a: bad')).toMatchObject({ source: 'event', sourceId: 'user@example', row: 0 });
    expect(stored('/in/x.jsonl', 'file:ef56:3', 'line 4: unparsable line: {x').reasons).toEqual(['unparsable line: {x']);
  });

  it('keeps a raw row that is not JSON as text', () => {
    expect(quarantinedRow({ view: 'v', event_id: 'e', ingest_id: 'e:0', reason: 'r', raw: 'a,"b', quarantined_at: at }).raw).toBe('a,"b');
  });
});

describe('splitReasons', () => {
  it('splits at "; " only where the next reason names a field', () => {
    expect(splitReasons('a: x; b: y')).toEqual(['a: x', 'b: y']);
    expect(splitReasons('note: expected INT64, got "1; 2"; flights: bad')).toEqual(['note: expected INT64, got "1; 2"', 'flights: bad']);
    expect(splitReasons('unparsable line: Unexpected token')).toEqual(['unparsable line: Unexpected token']);
  });
});
