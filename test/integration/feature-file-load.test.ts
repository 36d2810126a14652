import { mkdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { ValidationError } from '../../shared/errors.js';
import { loadFeatureFile } from '../../shared/features/load-file.js';
import { getOnlineFeatures } from '../../shared/features/online.js';
import type { OnlineStore } from '../../shared/ports/online-store.js';
import type { Warehouse } from '../../shared/ports/warehouse.js';
import { duckStore, testRepo } from '../helpers/feature-fixtures.js';

const repo = testRepo();
const T0 = Date.parse('2001-03-01T00:00:00Z');
const ts = (i: number) => new Date(T0 + i * 1000).toISOString();
const HEADER = 'origin,dest,event_ts,avg_delay,flights,note';
const csvLine = (i: number) => `O${i % 50},D${i % 7},${ts(i)},${(i % 100) / 4},${i},n${i}`;
const jsonLine = (i: number) => JSON.stringify({ origin: `O${i % 50}`, dest: `D${i % 7}`, event_ts: ts(i), avg_delay: (i % 100) / 4, flights: i, note: `n${i}` });
/** Longer than the longest record a file may hold (2,000,000 characters). */
const overLong = (i: number) => `O1,D1,${ts(i)},1,1,${'x'.repeat(2_100_000)}`;

/**
 * File loads (`ctloop features ingest`, the load-feature-file function): every record of a file is stored or
 * quarantined with its line and reason, or the file is refused as a whole before anything is written; a file
 * version is its content, whatever path names it.
 */
describe('feature file loads on DuckDB', () => {
  let w: Warehouse;
  let online: OnlineStore;
  let dir: string;
  let cleanup: () => Promise<void>;
  let objects: LocalObjectStore;
  beforeEach(async () => {
    ({ warehouse: w, online, dir, cleanup } = await duckStore());
    objects = new LocalObjectStore(join(dir, 'objects'));
  });
  afterEach(() => cleanup());

  const load = (uri: string, view = 'route_stats') => loadFeatureFile({ warehouse: w, online, repo, objectStore: objects }, { view, uri });
  const count = async (table: string) => Number((await w.query(`SELECT COUNT(*) AS n FROM ${w.dialect.table(table)}`))[0]!.n);
  const reasons = async () => (await w.query(`SELECT reason FROM ${w.dialect.table('_quarantine')} ORDER BY quarantined_at, ingest_id`)).map((r) => String(r.reason));
  /** read = stored + quarantined = records in the file, checked against the tables, not only the result. */
  const expectAccounted = async (res: { received: number; accepted: number; quarantined: number }, records: number) => {
    expect(res.received).toBe(records);
    expect(res.accepted + res.quarantined).toBe(records);
    expect(await count('fv_route_stats')).toBe(res.accepted);
    expect(await count('_quarantine')).toBe(res.quarantined);
  };
  const write = async (name: string, body: string | Buffer) => {
    const p = join(dir, name);
    await writeFile(p, body);
    return p;
  };

  it('quarantines a ragged line 90,002 of 100,001 instead of ending the read there (the streamed DuckDB read stopped at ~86k rows)', async () => {
    const lines = [HEADER];
    for (let i = 0; i < 100_000; i++) lines.push(i === 90_000 ? `${csvLine(i)},extra,extra2` : csvLine(i));
    const res = await load(await write('ragged.csv', `${lines.join('\n')}\n`));
    expect(res).toMatchObject({ received: 100_000, accepted: 99_999, quarantined: 1 });
    await expectAccounted(res, 100_000);
    expect(await reasons()).toEqual(['line 90002: ragged row: 8 fields where the header has 6']);
    expect(res.sampleReasons).toEqual(['line 90002: ragged row: 8 fields where the header has 6']);
  });

  it('CSV: ragged, over-long, stray-quote and truncated lines are each quarantined with their line number', async () => {
    const lines = [HEADER];
    for (let i = 0; i < 3000; i++) {
      if (i === 100) lines.push('O1,D1');
      else if (i === 1500) lines.push(overLong(i));
      else if (i === 2000) lines.push(`O1,"D1,${ts(i)},1,1,x`);
      else lines.push(csvLine(i));
    }
    // The file ends in the middle of a quoted value (a truncated upload).
    const body = `${lines.join('\n')}\nO1,D1,${ts(1)},1,1,"cut he`;
    const res = await load(await write('bad.csv', body));
    await expectAccounted(res, 3001);
    expect(res.quarantined).toBe(4);
    const r = await reasons();
    expect(r).toEqual([
      'line 102: ragged row: 2 fields where the header has 6',
      'line 1502: line is longer than 2,000,000 characters',
      'line 2002: a quoted value opened on this line is not closed properly (a stray " on this line?)',
      expect.stringMatching(/^line 3002: a quoted value is not closed before the end of the file/),
    ]);
    const raw = await w.query(`SELECT raw FROM ${w.dialect.table('_quarantine')} WHERE reason LIKE 'line 102:%'`);
    expect(raw[0]!.raw).toBe('O1,D1');
  });

  it('JSONL: invalid, over-long and truncated lines are each quarantined with their line number; blank lines are not rows', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      if (i === 10) lines.push('{"origin": "O1", "dest":');
      else if (i === 20) lines.push('');
      else if (i === 1500) lines.push(JSON.stringify({ origin: 'O1', dest: 'D1', event_ts: ts(i), note: 'x'.repeat(2_100_000) }));
      else lines.push(jsonLine(i));
    }
    const res = await load(await write('bad.jsonl', `${lines.join('\n')}\n{"origin":"O1","dest":"D1","event_ts":"2001-03-01T00:0`));
    await expectAccounted(res, 3000);
    expect(res.quarantined).toBe(3);
    expect(await reasons()).toEqual([
      expect.stringMatching(/^line 11: not valid JSON \(/),
      'line 1501: line is longer than 2,000,000 characters',
      expect.stringMatching(/^line 3001: not valid JSON \(/),
    ]);
  });

  describe('Parquet', () => {
    const writeParquet = async (name: string, select: string) => {
      const p = join(dir, name);
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      await conn.run(`COPY (${select}) TO '${p}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 10000)`);
      conn.closeSync();
      db.closeSync();
      return p;
    };
    const rows = (n: number) => `SELECT 'O' || (i % 50) AS origin, CASE WHEN i = 777 THEN NULL ELSE 'D' || (i % 7) END AS dest,
      TIMESTAMPTZ '2001-03-01 00:00:00+00' + to_seconds(i) AS event_ts, (i % 100) / 4 AS avg_delay, i AS flights, 'n' || i AS note FROM range(${n}) t(i)`;

    it('stores every row or quarantines it with its row number', async () => {
      const res = await load(await writeParquet('good.parquet', rows(100_000)));
      await expectAccounted(res, 100_000);
      expect(await reasons()).toEqual(['row 778: dest: join key is required']);
    });

    it('refuses a corrupt or truncated file as a whole, storing and quarantining nothing', async () => {
      const good = await readFile(await writeParquet('src.parquet', rows(100_000)));
      const corrupt = Buffer.from(good);
      corrupt.fill(0x55, Math.floor(good.length / 2), Math.floor(good.length / 2) + 5000);
      for (const [name, body] of [['corrupt.parquet', corrupt], ['truncated.parquet', good.subarray(0, Math.floor(good.length * 0.6))]] as const) {
        const err = await load(await write(name, body)).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).message).toMatch(new RegExp(`${name} is not a readable Parquet file: .*; nothing was loaded$`));
        expect((err as ValidationError).message).not.toMatch(/LINE 1|SELECT|read_parquet/);
        expect((err as ValidationError).hint).toMatch(/truncated, corrupt or not Parquet/);
      }
      expect(await count('fv_route_stats')).toBe(0);
      expect(await count('_quarantine')).toBe(0);
    });
  });

  describe('a file version is its content', () => {
    it('stores the same bytes once whatever path names them, touched or not; a changed file is a new version', async () => {
      await mkdir(join(dir, 'in'));
      const body = `${[HEADER, csvLine(1), csvLine(2), csvLine(3)].join('\n')}\n`;
      const path = await write('in/x.csv', body);
      await symlink(path, join(dir, 'link.csv'));
      const first = await load(path);
      expect(first.inserted).toBe(3);
      for (const alias of [join(dir, 'in', '..', 'in', 'x.csv'), join(dir, 'link.csv')]) {
        expect(await load(alias)).toMatchObject({ received: 3, accepted: 3, inserted: 0 });
      }
      await utimes(path, new Date(), new Date(Date.now() + 60_000));
      expect(await load(path)).toMatchObject({ inserted: 0 });
      await writeFile(join(dir, 'copy.csv'), body);
      expect(await load(join(dir, 'copy.csv'))).toMatchObject({ inserted: 0 });
      expect(await count('fv_route_stats')).toBe(3);

      await writeFile(path, `${body}${csvLine(4)}\n`);
      expect(await load(path)).toMatchObject({ received: 4, inserted: 4 });
      expect(await count('fv_route_stats')).toBe(7);
    });

    it('writes nothing once the invocation\'s deadline signal has fired (the redelivery loads the file)', async () => {
      const path = await write('late.csv', `${[HEADER, csvLine(1), csvLine(2)].join('\n')}\n`);
      const ac = new AbortController();
      ac.abort(new Error('deadline'));
      await expect(loadFeatureFile({ warehouse: w, online, repo, objectStore: objects, signal: ac.signal }, { view: 'route_stats', uri: path })).rejects.toThrow('deadline');
      expect(await count('fv_route_stats')).toBe(0);
      expect(await load(path)).toMatchObject({ inserted: 2 });
    });

    it('keys objects on their content too: the same bytes under two gs:// URIs load once', async () => {
      const body = `${[HEADER, csvLine(1), csvLine(2)].join('\n')}\n`;
      await objects.put('gs://bkt/in/a.csv', body);
      await objects.put('gs://bkt/other/a-copy.csv', body);
      expect(await load('gs://bkt/in/a.csv')).toMatchObject({ inserted: 2 });
      expect(await load('gs://bkt/other/a-copy.csv')).toMatchObject({ received: 2, inserted: 0 });
      await objects.put('gs://bkt/in/a.csv', body); // re-uploaded: a new object generation, the same content
      expect(await load('gs://bkt/in/a.csv')).toMatchObject({ inserted: 0 });
      expect(await count('fv_route_stats')).toBe(2);
    });

    it('an object\'s rows carry the creation time of the version downloaded, not a stat read after the download', async () => {
      await objects.put('gs://bkt/in/v.csv', `${HEADER}\n${csvLine(1)}\n`);
      const copied = await objects.stat('gs://bkt/in/v.csv');
      // A metadata change (or an overwrite) between download and stat moves `updated`: it must not be used.
      const moved = Object.assign(Object.create(objects) as LocalObjectStore, {
        stat: async () => ({ ...copied!, updated: new Date('2099-01-01T00:00:00Z') }),
      });
      await loadFeatureFile({ warehouse: w, online, repo, objectStore: moved }, { view: 'route_stats', uri: 'gs://bkt/in/v.csv' });
      const [row] = await w.query(`SELECT _created_ts AS c FROM ${w.dialect.table('fv_route_stats')}`);
      expect(new Date(String((row!.c as Date).toISOString?.() ?? row!.c)).getTime()).toBe(copied!.created!.getTime());
    });

    it('loading an old version again (touched) does not let it win online over a newer version', async () => {
      const latest = async () => (await getOnlineFeatures({ online, repo, now: () => new Date(T0 + 3_600_000) }, { view: 'route_stats', entities: [{ origin: 'A', dest: 'B' }], features: ['avg_delay'] })).results[0]!.values;
      const v1 = await write('v1.csv', `${HEADER}\nA,B,${ts(0)},1,1,old\n`);
      const v2 = await write('v2.csv', `${HEADER}\nA,B,${ts(0)},2,1,new\n`);
      await utimes(v1, new Date(T0), new Date(T0 + 1000));
      await utimes(v2, new Date(T0), new Date(T0 + 2000));
      await load(v1);
      await load(v2);
      expect(await latest()).toEqual([2]);
      await utimes(v1, new Date(T0), new Date(T0 + 3000));
      expect(await load(v1)).toMatchObject({ inserted: 0 });
      expect(await latest()).toEqual([2]);
    });
  });

  describe('files refused as a whole, before anything is written', () => {
    const refused = async (path: string, view = 'route_stats') => {
      const err = await load(path, view).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect(await count('fv_route_stats')).toBe(0);
      expect(await count('_quarantine')).toBe(0);
      return err as ValidationError;
    };

    it('a header without a join key or the event-time column names the expected columns and the closest header', async () => {
      const lines = ['origni,dest,event_ts,avg_delay'];
      for (let i = 0; i < 1000; i++) lines.push(`O${i},D,${ts(i)},1`);
      const err = await refused(await write('misnamed.csv', lines.join('\n')));
      expect(err.message).toMatch(/misnamed\.csv: the header has no column "origin" \(the join key of view route_stats\); nothing was loaded$/);
      expect(err.hint).toMatch(/^rename column "origni" to "origin"; expected columns: origin, dest, event_ts \(required\), avg_delay, flights, note \(optional\); the header has: origni, dest, event_ts, avg_delay$/);
      const noTs = await refused(await write('no-ts.csv', 'origin,dest,ts,avg_delay\nA,B,2001-03-01T00:00:00Z,1\n'));
      expect(noTs.message).toMatch(/has no column "event_ts" \(the event-time column of view route_stats\)/);
      expect(noTs.hint).toMatch(/^rename column "ts" to "event_ts"/);
    });

    it('refuses duplicated, unnamed and unknown header columns with what to do', async () => {
      const dup = await refused(await write('dup.csv', 'origin,dest,event_ts,flights,flights\nA,B,2001-03-01T00:00:00Z,1,2\n'));
      expect(dup.message).toMatch(/column "flights" appears twice in the header \(columns 4 and 5\)/);
      const unnamed = await refused(await write('unnamed.csv', 'origin,dest,event_ts,\nA,B,2001-03-01T00:00:00Z,\n'));
      expect(unnamed.message).toMatch(/column 4 of the header has no name/);
      const unknown = await refused(await write('unknown.csv', 'origin,dest,event_ts,flight\nA,B,2001-03-01T00:00:00Z,1\n'));
      expect(unknown.message).toMatch(/column "flight" is not a field of view route_stats, so every row would be quarantined/);
      expect(unknown.hint).toMatch(/^did you mean "flights"\?/);
      const empty = await refused(await write('empty.csv', ''));
      expect(empty.message).toMatch(/empty\.csv is empty: it has no header line/);
    });

    it('JSONL: a required field that no row of the first batch has', async () => {
      const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify({ origin: 'A', dst: 'B', event_ts: ts(i) }));
      const err = await refused(await write('misnamed.jsonl', lines.join('\n')));
      expect(err.message).toMatch(/no row among the first 100 has the field "dest" \(the join key of view route_stats\)/);
      expect(err.hint).toMatch(/^rename field "dst" to "dest"/);
    });

    it('a file that is not UTF-8 (naming its first bad line), a truncated gzip file, binary files named as text', async () => {
      const latin1 = Buffer.concat([Buffer.from(`${HEADER}\n${csvLine(1)}\nO1,D1,${ts(2)},1,1,caf`), Buffer.from([0xe9]), Buffer.from(`\n${csvLine(3)}\n`)]);
      const err = await refused(await write('latin1.csv', latin1));
      expect(err.message).toMatch(new RegExp(`latin1\\.csv is not valid UTF-8: line 3 \\(byte offset ${latin1.indexOf(0xe9)} of the file\\) holds an invalid byte sequence; nothing was loaded`));
      expect(err.hint).toMatch(/iconv/);
      const gz = gzipSync(Buffer.from(`${[HEADER, ...Array.from({ length: 5000 }, (_, i) => csvLine(i))].join('\n')}\n`));
      const cut = await refused(await write('cut.csv.gz', gz.subarray(0, gz.length - 100)));
      expect(cut.message).toMatch(/cut\.csv\.gz is not a complete gzip file .*nothing was loaded/);
      const unnamed = await refused(await write('gzipped.csv', gz));
      expect(unnamed.message).toMatch(/gzipped\.csv is not CSV text: it looks like a gzip-compressed file/);
      expect(unnamed.hint).toMatch(/name it with a \.gz suffix/);
      const parquet = await refused(await write('really-parquet.csv', Buffer.concat([Buffer.from('PAR1'), Buffer.from([0xff, 0x00, 0xfe])])));
      expect(parquet.message).toMatch(/really-parquet\.csv is not CSV text: it looks like Parquet/);
      const whole = await load(await write('whole.csv.gz', gz));
      await expectAccounted(whole, 5000);
    });
  });
});
