import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { loadFeatureFile } from '../../shared/features/load-file.js';
import type { OnlineStore } from '../../shared/ports/online-store.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { duckStore, testRepo } from '../helpers/feature-fixtures.js';
import { csvField, driverCorpus, routeCorpus } from '../helpers/load-corpus.js';

const repo = testRepo();
const NOW = new Date('2024-05-01T00:00:00Z');

describe('file loads inside the engine agree with the row-by-row path', () => {
  const stores: Awaited<ReturnType<typeof duckStore>>[] = [];
  let dir: string;
  beforeEach(async () => {
    stores.length = 0;
    for (let i = 0; i < 2; i++) stores.push(await duckStore());
    dir = stores[0]!.dir;
  });
  afterEach(async () => {
    for (const s of stores) await s.cleanup();
  });

  const load = async (s: { warehouse: Warehouse; online: OnlineStore; dir: string }, uri: string, executor: 'auto' | 'rows', view = 'route_stats') => {
    const paths: string[] = [];
    const res = await loadFeatureFile({ warehouse: s.warehouse, online: s.online, repo, objectStore: new LocalObjectStore(join(s.dir, 'o')), now: () => NOW, onPath: (p, why) => paths.push(why ? `${p}: ${why}` : p) }, { view, uri, executor });
    return { res, paths };
  };
  const dump = async (w: Warehouse, table: string) => w.query(`SELECT * FROM ${w.dialect.table(table)} ORDER BY ALL`);

  async function expectSame(uri: string, view = 'route_stats', path: 'engine' | RegExp = 'engine', engineStore: { online?: OnlineStore } = {}) {
    const [a, b] = stores as [Awaited<ReturnType<typeof duckStore>>, Awaited<ReturnType<typeof duckStore>>];
    const rows = await load(a, uri, 'rows', view);
    const engine = await load({ ...b, ...engineStore }, uri, 'auto', view);
    if (path === 'engine') expect(engine.paths).toEqual(['engine']);
    else expect(engine.paths[0]).toMatch(path);
    expect(engine.res).toEqual(rows.res);
    const table = repo.view(view).table;
    expect(await dump(b.warehouse, table)).toEqual(await dump(a.warehouse, table));
    expect(await dump(b.warehouse, '_quarantine')).toEqual(await dump(a.warehouse, '_quarantine'));
    const keys = (await a.warehouse.query(`SELECT DISTINCT ${repo.view(view).entity.joinKeys.map((k) => k.name).join(', ')} FROM ${a.warehouse.dialect.table(table)}`));
    const k = keys.map((r) => repo.view(view).entity.joinKeys.map((j) => r[j.name] as string | number));
    expect(await b.online.read(repo.view(view), k)).toEqual(await a.online.read(repo.view(view), k));
    return { rows, engine };
  }

  it('a CSV corpus of good and bad values (impossible dates, T24:00, offsets, 1e400, ±2^53, inf/nan, empty keys): same rows stored and quarantined, same reasons, lines and raw rows', async () => {
    const p = join(dir, 'corpus.csv');
    await writeFile(p, routeCorpus());
    const { engine } = await expectSame(p);
    expect(engine.res.quarantined).toBeGreaterThan(20);
    expect(engine.res.accepted).toBeGreaterThan(5);
    // Loading the same content again stores nothing twice.
    const again = await load(stores[1]!, p, 'auto');
    expect(again.res.inserted).toBe(0);
  });

  it('online values of every type read back the same through the bulk write of the store and after a reopen (floats at their edges, NaN, ±inf, unicode, NULL)', async () => {
    const p = join(dir, 'edges.csv');
    const floats = ['0.30000000000000004', '5e-324', '1.7976931348623157e308', '123456789012345678', '0.1', '1e21', '-2.5e-7', 'nan', '-inf', 'inf', ''];
    const lines = ['origin,dest,event_ts,avg_delay,flights,note'];
    floats.forEach((f, i) => lines.push([`O${i}`, 'D"é', '2001-03-01T00:00:00Z', f, String(9007199254740991 - i), i % 2 ? '' : `n\u2028${i}`].map((v) => csvField(v)).join(',')));
    await writeFile(p, `${lines.join('\n')}\n`);
    await expectSame(p);
    const [a, b] = stores as [Awaited<ReturnType<typeof duckStore>>, Awaited<ReturnType<typeof duckStore>>];
    const view = repo.view('route_stats');
    const keys = floats.map((_, i) => [`O${i}`, 'D"é']);
    const before = await b.online.read(view, keys);
    expect(before.every((r) => r !== null)).toBe(true);
    for (const s of [a, b]) await s.online.close();
    const { EmbeddedOnlineStore } = await import('../../shared/adapters/online-store/embedded/index.js');
    const [ra, rb] = [await EmbeddedOnlineStore.open({ dir: join(a.dir, 'online'), readOnly: true }), await EmbeddedOnlineStore.open({ dir: join(b.dir, 'online'), readOnly: true })];
    expect(await rb.read(view, keys)).toEqual(await ra.read(view, keys));
    expect(await rb.read(view, keys)).toEqual(before);
    for (const s of [ra, rb]) await s.close();
  });

  it('the newest row per entity online: equal event times broken by the ingest id as text (row 9 after row 10), fast and slow rows alike', async () => {
    const p = join(dir, 'ties.csv');
    const lines = ['origin,dest,event_ts,avg_delay,flights,note'];
    for (let i = 0; i < 12; i++) lines.push(`O1,D1,2001-03-01T00:00:00Z,${i % 2 ? ` ${i} ` : i},${i},n${i}`); // odd rows: slow (spaces)
    for (let i = 0; i < 12; i++) lines.push(`O2,D1,2001-03-0${1 + (i % 3)}T00:00:00${i % 2 ? '+00:00' : 'Z'},${i},${i},m${i}`);
    await writeFile(p, `${lines.join('\n')}\n`);
    await expectSame(p);
    const [o1] = await stores[1]!.online.read(repo.view('route_stats'), [['O1', 'D1']]);
    expect(o1!.values.flights).toBe(9);
  });

  it('an online store without the bulk write gets the same newest rows through write', async () => {
    const [a, b] = stores as [Awaited<ReturnType<typeof duckStore>>, Awaited<ReturnType<typeof duckStore>>];
    const inner = b.online;
    const plain: OnlineStore = { kind: 'firestore', write: (v, r) => inner.write(v, r), read: (v, k) => inner.read(v, k), close: async () => undefined };
    const p = join(dir, 'corpus-plain.csv');
    await writeFile(p, routeCorpus());
    await expectSame(p, 'route_stats', 'engine', { online: plain });
    expect('writeEncoded' in plain).toBe(false);
    expect(a.online).not.toBe(plain);
  });

  it('stores each row once: files straddling stored partitions, reloads, and concurrent loads of one content', async () => {
    const s = stores[1]!;
    const file = async (name: string, days: number[]) => {
      const p = join(dir, name);
      await writeFile(p, `origin,dest,event_ts,avg_delay,flights,note\n${days.map((d) => `O${d},D1,2001-03-${String(d).padStart(2, '0')}T12:00:00Z,1.5,${d},n`).join('\n')}\n`);
      return p;
    };
    const a = await file('a.csv', [1, 2, 3, 4, 5]);
    const b = await file('b.csv', [4, 5, 6, 7, 8, 9]); // other content, over a's days and beyond
    const c = await file('c.csv', [10, 11]);
    const first = await expectSame(a); // a clean file: every row of the fast shapes, values taken unchecked
    expect(first.engine.res.inserted).toBe(5);
    const [b1, b2, b3] = await Promise.all([load(s, b, 'auto'), load(s, b, 'auto'), load(s, b, 'rows')]);
    expect([b1, b2].map((r) => r.paths)).toEqual([['engine'], ['engine']]);
    expect([b1, b2, b3].map((r) => r.res.inserted).sort()).toEqual([0, 0, 6]);
    expect((await load(s, a, 'auto')).res.inserted).toBe(0);
    expect((await load(s, c, 'auto')).res.inserted).toBe(2);
    const [count] = await s.warehouse.query(`SELECT count(*) AS n, count(DISTINCT _ingest_id) AS ids FROM ${s.warehouse.dialect.table(repo.view('route_stats').table)}`);
    expect(count).toEqual({ n: 13, ids: 13 });
  });

  it('an INT64 key view with a created-time column (quoted multi-line values shift line numbers)', async () => {
    const p = join(dir, 'drivers.csv');
    await writeFile(p, driverCorpus());
    await expectSame(p, 'driver_stats');
  });

  it('hands a file the engine could read differently to the row-by-row path before writing anything: ragged line, blank line, spaces around a quote', async () => {
    const base = 'origin,dest,event_ts,avg_delay,flights,note\nO1,D1,2001-03-01T00:00:00Z,1,1,a\n';
    for (const [name, body, why] of [
      ['ragged.csv', `${base}O1,D1\n`, /^rows: DuckDB cannot read every line/],
      ['blank.csv', `${base}\nO2,D1,2001-03-01T00:00:00Z,1,1,b\n`, /^rows: the file has 4 lines/],
      ['spaced.csv', `${base}O2,D1,2001-03-01T00:00:00Z,1,1, "b" \n`, /^rows: a quote/],
    ] as const) {
      const p = join(dir, name);
      await writeFile(p, body);
      await expectSame(p, 'route_stats', why);
    }
  });

  it('Parquet: typed columns classified in the engine, the same rows stored', async () => {
    const p = join(dir, 'rows.parquet');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(`COPY (SELECT 'O' || (i % 5) AS origin, 'D1' AS dest, TIMESTAMP '2001-03-01' + to_seconds(i) + INTERVAL 1 MICROSECOND * (i % 3) AS event_ts,
      CASE WHEN i % 11 = 0 THEN 'inf'::DOUBLE ELSE i / 3 END AS avg_delay, i::BIGINT AS flights, CASE WHEN i % 4 = 0 THEN NULL ELSE 'n' || i END AS note
      FROM range(500) t(i)) TO '${p}' (FORMAT parquet)`);
    c.closeSync();
    db.closeSync();
    await expectSame(p);
    const bad = join(dir, 'bad.parquet');
    const db2 = await DuckDBInstance.create(':memory:');
    const c2 = await db2.connect();
    await c2.run(`COPY (SELECT 'O1' AS origin, 'D1' AS dest, TIMESTAMP '2001-03-01' AS event_ts, 1.5::DOUBLE AS avg_delay, 9007199254740993::BIGINT AS flights) TO '${bad}' (FORMAT parquet)`);
    c2.closeSync();
    db2.closeSync();
    await expectSame(bad, 'route_stats', /^rows: the Parquet file has rows that fail/);
  });
});
