import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pitStrategyFor, pointInTimeSql, ROW_ID, type PitStrategy } from '../../shared/features/pit-sql.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { bigqueryDialect, duckdbDialect } from '../../shared/sql/dialects.js';
import { duckStore, testRepo } from '../helpers/feature-fixtures.js';

/**
 * The two point-in-time forms (portable `qualify`, DuckDB's `latest-time`) against a brute-force reference, on
 * random data full of exact ties (same key and event time; same created time too, only the ingest id differs),
 * exact duplicate rows (the same event stored twice, as a racing writer could), duplicated spine rows, microsecond
 * timestamps, ttl edges, bucket boundaries, keys whose type differs from the view's (cast), views without ttl,
 * and keys absent from the feature table.
 */
const repo = testRepo();
const route = repo.view('route_stats');
const driver = repo.view('driver_stats');
const DAY_US = 86_400_000_000;
const BASE_US = Date.parse('2001-03-01T00:00:00Z') * 1000;

interface Ev { key: string; t: number; c: number; i: string; payload: [number, number, string] }

function lcg(seed: number) {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** Newest by (event time, created time, ingest id), within [ts - ttl, ts]; exact duplicates carry the same payload. */
function reference(events: Ev[], key: string, ts: number, ttlUs: number): Ev | undefined {
  let best: Ev | undefined;
  for (const e of events) {
    if (e.key !== key || e.t > ts || (ttlUs > 0 && e.t < ts - ttlUs)) continue;
    if (!best || e.t > best.t || (e.t === best.t && (e.c > best.c || (e.c === best.c && e.i > best.i)))) best = e;
  }
  return best;
}

describe('point-in-time forms: portable QUALIFY and DuckDB latest-time give identical, exact results', () => {
  let w: Warehouse;
  let cleanup: () => Promise<void>;
  const routeEvents: Ev[] = [];
  const driverEvents: Ev[] = [];
  const spine: { i: number; origin: string; dest: string; driver: string; ts: number }[] = [];

  beforeAll(async () => {
    ({ warehouse: w, cleanup } = await duckStore());
    const rnd = lcg(7);
    const pick = <T,>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
    const origins = ['a', 'b', 'a,b', '1'];
    const dests = ['x', 'y', '23'];
    const seen = new Set<string>();
    const gen = (out: Ev[], key: () => string, n: number) => {
      while (out.length < n) {
        // Ten-minute steps over five days (many exact ties), a tenth with a microsecond offset.
        const t = BASE_US + Math.floor(rnd() * 720) * 600_000_000 + (rnd() < 0.1 ? Math.floor(rnd() * 1000) : 0);
        const e: Ev = { key: key(), t, c: BASE_US + Math.floor(rnd() * 3) * 1_000_000, i: `id${Math.floor(rnd() * 4)}`, payload: [Math.round(rnd() * 1e6) / 100, Math.floor(rnd() * 1000), `n${Math.floor(rnd() * 50)}`] };
        const id = `${out === routeEvents ? 'r' : 'd'}|${e.key}|${e.t}|${e.c}|${e.i}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(e);
        if (rnd() < 0.1) out.push(e); // the same event stored twice
      }
    };
    gen(routeEvents, () => `${pick(origins)}|${pick(dests)}`, 2500);
    gen(driverEvents, () => String(1 + Math.floor(rnd() * 5)), 600);
    for (let i = 0; i < 1500; i++) {
      const ts = BASE_US + Math.floor(rnd() * 8000) * 60_000_000 + (rnd() < 0.5 ? Math.floor(rnd() * 1_000_000) : 0);
      const [origin, dest] = (rnd() < 0.05 ? 'zz|zz' : `${pick(origins)}|${pick(dests)}`).split('|') as [string, string];
      spine.push({ i, origin, dest, driver: String(Math.floor(rnd() * 7)), ts });
      if (rnd() < 0.05) spine.push({ ...spine[spine.length - 1]!, i: ++i });
    }
    // Edges: exactly ttl old (inside); one microsecond older (outside); an event at the spine's last instant, which
    // carries microseconds the millisecond bounds would cut off; a spine row exactly on a ttl bucket boundary.
    const last = BASE_US + 9000 * 60_000_000 + 999_999;
    const edge = (key: string, t: number, tag: string) => routeEvents.push({ key, t, c: BASE_US, i: 'edge', payload: [0, 0, tag] });
    edge('edge|ttl', last - DAY_US, 'at-ttl');
    edge('edge|old', last - DAY_US - 1, 'too-old');
    edge('edge|last', last, 'at-last');
    edge('edge|bucket', BASE_US + 3 * DAY_US - 1, 'before-boundary');
    let n = spine.length;
    for (const key of ['edge|ttl', 'edge|old', 'edge|last']) spine.push({ i: n++, origin: key.split('|')[0]!, dest: key.split('|')[1]!, driver: '1', ts: last });
    spine.push({ i: n++, origin: 'edge', dest: 'bucket', driver: '1', ts: BASE_US + 3 * DAY_US });

    const ts = (us: number) => `make_timestamp(${us})`;
    const rows = (evs: Ev[], keyCols: (k: string) => string) => evs.map((e) =>
      `(${keyCols(e.key)}, ${ts(e.t)}, ${e.payload[0]}, ${e.payload[1]}, '${e.payload[2]}', ${ts(e.c)}, '${e.i}', ${ts(BASE_US)})`).join(',\n');
    await w.execute(`INSERT INTO ${w.dialect.table(route.table)} (origin, dest, event_ts, avg_delay, flights, note, _created_ts, _ingest_id, _ingested_at) VALUES
      ${rows(routeEvents, (k) => k.split('|').map((p) => `'${p}'`).join(', '))}`);
    await w.execute(`INSERT INTO ${w.dialect.table(driver.table)} (driver_id, event_ts, rating, active, _created_ts, _ingest_id, _ingested_at) VALUES
      ${driverEvents.map((e) => `(${e.key}, ${ts(e.t)}, ${e.payload[0]}, ${e.payload[1] % 2 === 0}, ${ts(e.c)}, '${e.i}', ${ts(BASE_US)})`).join(',\n')}`);
    await w.execute(`CREATE TABLE ${w.dialect.table('pit_spine')} AS SELECT * FROM (VALUES
      ${spine.map((s) => `(${s.i + 1}, ${s.i}, '${s.origin}', '${s.dest}', '${s.driver}', ${ts(s.ts)})`).join(',\n')}) AS v(${ROW_ID}, i, origin, dest, driver_id, ts)`);
  });
  afterAll(() => cleanup());

  const runForm = async (strategy: PitStrategy) => {
    const b = (await w.query(`SELECT MIN(ts) AS lo, MAX(ts) AS hi FROM ${w.dialect.table('pit_spine')}`))[0]!;
    const sql = pointInTimeSql(w.dialect, {
      spine: { sql: w.dialect.table('pit_spine'), columns: [
        { name: ROW_ID, type: 'INT64' }, { name: 'i', type: 'INT64' }, { name: 'origin', type: 'STRING' }, { name: 'dest', type: 'STRING' },
        { name: 'driver_id', type: 'STRING' }, { name: 'ts', type: 'TIMESTAMP' },
      ] },
      timestampColumn: 'ts',
      views: [
        { view: route, features: [{ name: 'avg_delay', as: 'avg_delay' }, { name: 'flights', as: 'flights' }, { name: 'note', as: 'note' }] },
        { view: driver, features: [{ name: 'rating', as: 'rating' }] },
      ],
      minTs: b.lo as Date, maxTs: b.hi as Date, strategy,
    });
    return { sql, rows: await w.query(sql) };
  };

  it('both forms equal the brute-force reference, row for row, in spine order', async () => {
    const expected = spine.map((s) => {
      const r = reference(routeEvents, `${s.origin}|${s.dest}`, s.ts, route.ttlSeconds * 1e6);
      const d = reference(driverEvents, s.driver, s.ts, 0);
      return { i: s.i, avg_delay: r?.payload[0] ?? null, flights: r?.payload[1] ?? null, note: r?.payload[2] ?? null, rating: d?.payload[0] ?? null };
    });
    // The data must exercise what it claims to: ties decided by created time and by ingest id, and duplicates.
    const winners = spine.map((s) => reference(routeEvents, `${s.origin}|${s.dest}`, s.ts, route.ttlSeconds * 1e6)).filter((e): e is Ev => !!e);
    const tiedOn = (e: Ev, same: (o: Ev) => boolean) => routeEvents.some((o) => o !== e && o.key === e.key && o.t === e.t && same(o));
    expect(winners.filter((e) => tiedOn(e, (o) => o.c < e.c)).length).toBeGreaterThan(10);
    expect(winners.filter((e) => tiedOn(e, (o) => o.c === e.c && o.i < e.i)).length).toBeGreaterThan(10);
    expect(routeEvents.length - new Set(routeEvents).size).toBeGreaterThan(100);
    for (const strategy of ['qualify', 'latest-time'] as const) {
      const { rows } = await runForm(strategy);
      const got = rows.map((r) => ({ i: Number(r.i), avg_delay: r.avg_delay, flights: r.flights === null ? null : Number(r.flights), note: r.note, rating: r.rating }));
      expect(got, strategy).toEqual(expected);
      const byI = new Map(got.map((g) => [g.i, g]));
      expect([byI.get(spine.length - 4)?.note, byI.get(spine.length - 3)?.note, byI.get(spine.length - 2)?.note, byI.get(spine.length - 1)?.note], strategy)
        .toEqual(['at-ttl', null, 'at-last', 'before-boundary']);
    }
  });

  it('chooses the form per dialect capability and keeps the BigQuery form free of engine-specific syntax', async () => {
    const bq = bigqueryDialect('my-project', 'features');
    expect(pitStrategyFor(bq)).toBe('qualify');
    expect(pitStrategyFor(duckdbDialect())).toBe('latest-time');
    const input = { spine: { sql: 'spine', columns: [{ name: ROW_ID, type: 'INT64' as const }, { name: 'origin', type: 'STRING' as const }, { name: 'dest', type: 'STRING' as const }, { name: 'ts', type: 'TIMESTAMP' as const }] }, timestampColumn: 'ts', views: [{ view: route, features: [{ name: 'avg_delay', as: 'avg_delay' }] }], minTs: new Date(0), maxTs: new Date(0) };
    expect(pointInTimeSql(bq, input)).not.toMatch(/MATERIALIZED/);
    expect(pointInTimeSql(duckdbDialect(), input)).toMatch(/AS MATERIALIZED/);
    expect(() => pointInTimeSql(bq, { ...input, strategy: 'latest-time' })).toThrow(/materializedCte/);
  });
});
