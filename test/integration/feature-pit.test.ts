import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createObjectStore } from '../../shared/adapters/object-store/index.js';
import { getHistoricalFeatures } from '../../shared/features/historical.js';
import { ingestRows } from '../../shared/features/ingest.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';
import type { OnlineStore } from '../../shared/ports/online-store.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { duckStore, testRepo } from '../helpers/feature-fixtures.js';

const repo = testRepo();
const T0 = Date.parse('2001-03-01T00:00:00Z');
const iso = (m: number) => new Date(T0 + m * 60_000).toISOString();
const DAY_MIN = 24 * 60;

function parseCsv(text: string): Record<string, string>[] {
  const [head, ...lines] = text.trim().split('\n');
  const cols = head!.split(',');
  return lines.map((l) => {
    const cells: string[] = [];
    let cur = '';
    let q = false;
    for (let i = 0; i < l.length; i++) {
      const ch = l[i]!;
      if (q && ch === '"' && l[i + 1] === '"') { cur += '"'; i++; }
      else if (ch === '"') q = !q;
      else if (ch === ',' && !q) { cells.push(cur); cur = ''; }
      else cur += ch;
    }
    cells.push(cur);
    return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? '']));
  });
}

const csvCell = (v: unknown) => (v === null || v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

describe('point-in-time retrieval on DuckDB', () => {
  let w: Warehouse;
  let online: OnlineStore;
  let store: ObjectStore;
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ warehouse: w, online, dir, cleanup } = await duckStore());
    store = createObjectStore({ kind: 'local', root: join(dir, 'objects') });
  });
  afterAll(() => cleanup());

  const run = async (spineRows: Record<string, unknown>[], features: string[], name: string) => {
    const spine = join(dir, `${name}.csv`);
    const cols = Object.keys(spineRows[0]!);
    await writeFile(spine, [cols.join(','), ...spineRows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\n'));
    const out = join(dir, `${name}-out.csv`);
    const res = await getHistoricalFeatures({ warehouse: w, objectStore: store, repo, scratchBucket: 'scratch' }, { spine, timestampColumn: 'ts', features, out });
    return { res, rows: parseCsv(await readFile(out, 'utf8')) };
  };

  it('handles duplicates, exact ties, late events, ttl edges, separators in keys, and keeps spine order', async () => {
    const ingest = (sourceId: string, rows: unknown[], createdAt = new Date(T0)) => ingestRows({ warehouse: w, online, repo }, { view: 'route_stats', sourceId, rows, createdAt });
    // A: two values; the later one arrives late (ingested after a newer-by-ingest row) but has the newer event time.
    await ingest('a1', [{ origin: 'A', dest: 'B', event_ts: iso(60), avg_delay: 1, flights: 1 }]);
    await ingest('a0', [{ origin: 'A', dest: 'B', event_ts: iso(120), avg_delay: 2, flights: 2 }]);
    // Exact tie on (key, event_ts, created): ingest id breaks it deterministically; the same event twice is stored once.
    await ingest('t1', [{ origin: 'T', dest: 'T', event_ts: iso(60), avg_delay: 10 }]);
    await ingest('t2', [{ origin: 'T', dest: 'T', event_ts: iso(60), avg_delay: 20 }]);
    await ingest('t2', [{ origin: 'T', dest: 'T', event_ts: iso(60), avg_delay: 20 }]);
    // Keys with separator characters that a CONCAT row id would confuse: ("1", "23") vs ("12", "3").
    await ingest('s', [
      { origin: '1', dest: '23', event_ts: iso(0), avg_delay: 123 },
      { origin: '12', dest: '3', event_ts: iso(0), avg_delay: 999 },
      { origin: 'a,b', dest: 'c"d', event_ts: iso(0), avg_delay: 7 },
    ]);
    // ttl is one day: exactly at the edge is still inside.
    await ingest('ttl', [{ origin: 'E', dest: 'E', event_ts: iso(0), avg_delay: 5 }]);

    const spine = [
      { origin: 'A', dest: 'B', ts: iso(30), label: 'before-any' },
      { origin: 'A', dest: 'B', ts: iso(60), label: 'at-first' },
      { origin: 'A', dest: 'B', ts: iso(119), label: 'between' },
      { origin: 'A', dest: 'B', ts: iso(500), label: 'after-late' },
      { origin: 'T', dest: 'T', ts: iso(61), label: 'tie' },
      { origin: 'T', dest: 'T', ts: iso(61), label: 'tie-again' },
      { origin: '1', dest: '23', ts: iso(1), label: 'sep1' },
      { origin: '12', dest: '3', ts: iso(1), label: 'sep2' },
      { origin: 'a,b', dest: 'c"d', ts: iso(1), label: 'quoted' },
      { origin: 'E', dest: 'E', ts: iso(DAY_MIN), label: 'ttl-edge' },
      { origin: 'E', dest: 'E', ts: iso(DAY_MIN + 1), label: 'ttl-expired' },
      { origin: 'Z', dest: 'Z', ts: iso(10), label: 'unmatched' },
    ];
    const { res, rows } = await run(spine, ['route_stats:avg_delay', 'route_stats:flights'], 'edges');
    expect(res.rows).toBe(spine.length);
    expect(rows.map((r) => r.label)).toEqual(spine.map((s) => s.label));
    expect(rows.map((r) => r.avg_delay)).toEqual(['', '1.0', '1.0', '2.0', '20.0', '20.0', '123.0', '999.0', '7.0', '5.0', '', '']);
    expect(rows[3]!.flights).toBe('2');
  });

  it('matches a brute-force reference on random data with duplicates and ties', async () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const keys = ['x', 'y', 'z', 'x,y'];
    const events: { origin: string; dest: string; event_ts: string; avg_delay: number; id: string }[] = [];
    for (let e = 0; e < 40; e++) {
      const rows = Array.from({ length: 10 }, (_, i) => ({ origin: keys[Math.floor(rnd() * 4)]!, dest: 'R', event_ts: iso(2000 + Math.floor(rnd() * 3000)), avg_delay: Math.round(rnd() * 1000) }));
      await ingestRows({ warehouse: w, online, repo }, { view: 'route_stats', sourceId: `r${String(e).padStart(3, '0')}`, rows, createdAt: new Date(T0) });
      if (e % 7 === 0) await ingestRows({ warehouse: w, online, repo }, { view: 'route_stats', sourceId: `r${String(e).padStart(3, '0')}`, rows, createdAt: new Date(T0) });
      rows.forEach((r, i) => events.push({ ...r, id: `r${String(e).padStart(3, '0')}:${i}` }));
    }
    const spine = Array.from({ length: 300 }, (_, i) => ({ origin: keys[Math.floor(rnd() * 4)]!, dest: 'R', ts: iso(2000 + Math.floor(rnd() * 4500)), i }));
    const ttl = 24 * 3_600_000;
    const expected = spine.map((s) => {
      const t = Date.parse(s.ts);
      const cands = events.filter((e) => e.origin === s.origin && Date.parse(e.event_ts) <= t && Date.parse(e.event_ts) >= t - ttl);
      cands.sort((a, b) => Date.parse(b.event_ts) - Date.parse(a.event_ts) || (a.id < b.id ? 1 : -1));
      return cands[0] ? cands[0].avg_delay.toFixed(1) : '';
    });
    const { rows } = await run(spine, ['route_stats:avg_delay'], 'random');
    expect(rows.map((r) => Number(r.i))).toEqual(spine.map((s) => s.i));
    expect(rows.map((r) => r.avg_delay)).toEqual(expected);
  });

  it('keeps rows whose source created time is null (the event publish time stands in) and orders ties by created time', async () => {
    const ingestDriver = (sourceId: string, rows: unknown[], createdAt: Date) => ingestRows({ warehouse: w, online, repo }, { view: 'driver_stats', sourceId, rows, createdAt });
    await ingestDriver('d-null', [{ driver_id: 1, event_ts: iso(60), created: null, rating: 3.0 }], new Date(iso(61)));
    // Same event time, a later created time in the source: it wins the tie.
    await ingestDriver('d-a', [{ driver_id: 2, event_ts: iso(60), created: iso(70), rating: 5.0 }], new Date(T0));
    await ingestDriver('d-b', [{ driver_id: 2, event_ts: iso(60), created: iso(65), rating: 1.0 }], new Date(T0));
    const spine = join(dir, 'drivers.csv');
    await writeFile(spine, ['driver_id,ts', `1,${iso(90)}`, `2,${iso(90)}`, `3,${iso(90)}`].join('\n'));
    const out = join(dir, 'drivers-out.csv');
    await getHistoricalFeatures({ warehouse: w, objectStore: store, repo, scratchBucket: 'scratch' }, { spine, timestampColumn: 'ts', features: ['driver_stats:rating'], out });
    expect(parseCsv(await readFile(out, 'utf8')).map((r) => r.rating)).toEqual(['3.0', '5.0', '']);
  });

  it('names missing columns and bad references clearly', async () => {
    await expect(run([{ origin: 'A', ts: iso(1) }], ['route_stats:avg_delay'], 'nokey')).rejects.toThrow(/spine has no column "dest"/);
    await expect(run([{ origin: 'A', dest: 'B', ts: iso(1) }], ['route_stats:nope'], 'nofeat')).rejects.toThrow(/has no feature "nope"/);
    await expect(run([{ origin: 'A', dest: 'B', ts: 'yesterday' }], ['route_stats:avg_delay'], 'badts')).rejects.toThrow(/unparsable value "yesterday"/);
    await expect(run([{ origin: 'A', dest: 'B', when: iso(1) }], ['route_stats:avg_delay'], 'nots')).rejects.toThrow(/spine has no column "ts"/);
  });

  it('honours timestamp offsets in the spine and resolves feature services', async () => {
    const { rows } = await run([
      { origin: 'A', dest: 'B', ts: '2001-03-01T03:00:00+02:00' }, // = 01:00Z → the 01:00 value
      { origin: 'A', dest: 'B', ts: '2001-03-01T00:59:00-01:00' }, // = 01:59Z → still the 01:00 value
      { origin: 'A', dest: 'B', ts: '2001-03-01 02:00:00' },       // UTC assumed → the 02:00 value
    ], ['service:route_model'], 'offsets');
    expect(rows.map((r) => r.avg_delay)).toEqual(['1.0', '1.0', '2.0']);
    expect(Object.keys(rows[0]!)).toEqual(['origin', 'dest', 'ts', 'avg_delay', 'flights']);
  });
});
