import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnSchema, Warehouse } from '../../shared/ports/warehouse.js';

/**
 * The warehouse contract: every adapter (DuckDB, BigQuery) must pass this one suite.
 * `fileUri` turns a local file into what the adapter reads (the path itself for DuckDB, a gs:// URI for BigQuery);
 * `readExport` reads back what exportQuery wrote.
 */
export interface WarehouseHarness {
  warehouse: Warehouse;
  fileUri(localPath: string): Promise<string>;
  exportUri(name: string): string;
  readExport(uri: string): Promise<Buffer>;
  cleanup(): Promise<void>;
}

const allTypes: ColumnSchema[] = [
  { name: 'k', type: 'STRING', mode: 'REQUIRED' },
  { name: 'i', type: 'INT64' },
  { name: 'f', type: 'FLOAT64' },
  { name: 'b', type: 'BOOL' },
  { name: 'ts', type: 'TIMESTAMP' },
];

export function runWarehouseContract(label: string, make: () => Promise<WarehouseHarness>): void {
  describe(`warehouse contract: ${label}`, () => {
    let h: WarehouseHarness;
    let w: Warehouse;
    let dir: string;
    const t = (n: string) => `ct_${n}_${Math.random().toString(36).slice(2, 8)}`;

    beforeAll(async () => {
      h = await make();
      w = h.warehouse;
      dir = await mkdtemp(join(tmpdir(), 'ctloop-wh-'));
    });
    afterAll(async () => {
      await h?.cleanup();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('creates a table and reports its schema; getTable is null for a missing table', async () => {
      const name = t('schema');
      expect(await w.getTable(name)).toBeNull();
      await w.createTable({ name, columns: allTypes, partitionBy: 'ts', clusterBy: ['k'] });
      const spec = await w.getTable(name);
      expect(spec?.columns.map((c) => [c.name, c.type])).toEqual(allTypes.map((c) => [c.name, c.type]));
      expect(spec?.columns[0]?.mode).toBe('REQUIRED');
      // createTable is idempotent
      await w.createTable({ name, columns: allTypes });
    });

    it('adds nullable columns additively and keeps existing rows', async () => {
      const name = t('add');
      await w.createTable({ name, columns: [{ name: 'k', type: 'STRING' }] });
      await w.execute(`INSERT INTO ${w.dialect.table(name)} (k) VALUES (${w.dialect.param('k')})`, { params: { k: { type: 'STRING', value: 'a' } } });
      await w.addColumns(name, [{ name: 'extra', type: 'FLOAT64', mode: 'REQUIRED' }]);
      const spec = await w.getTable(name);
      expect(spec?.columns.map((c) => c.name)).toEqual(['k', 'extra']);
      expect(spec?.columns[1]?.mode).toBe('NULLABLE');
      const rows = await w.query(`SELECT k, extra FROM ${w.dialect.table(name)}`);
      expect(rows).toEqual([{ k: 'a', extra: null }]);
    });

    it('binds typed named parameters, including nulls and microsecond-free timestamps', async () => {
      const d = w.dialect;
      const ts = new Date('2001-02-03T04:05:06.789Z');
      const rows = await w.query(
        `SELECT ${d.param('s')} AS s, ${d.param('i')} AS i, ${d.param('f')} AS f, ${d.param('b')} AS b, ${d.param('ts')} AS ts, ${d.param('n')} AS n`,
        { params: { s: { type: 'STRING', value: "it's" }, i: { type: 'INT64', value: 42 }, f: { type: 'FLOAT64', value: 1.25 }, b: { type: 'BOOL', value: true }, ts: { type: 'TIMESTAMP', value: ts }, n: { type: 'STRING', value: null } } },
      );
      expect(rows).toEqual([{ s: "it's", i: 42, f: 1.25, b: true, ts, n: null }]);
    });

    it('timestamp literals and INTERVAL arithmetic agree across engines', async () => {
      const d = w.dialect;
      const rows = await w.query(
        `SELECT ${d.timestamp(new Date('2001-01-02T00:00:00Z'))} - INTERVAL 3600 SECOND AS t, CAST(7 AS STRING) AS s, CAST('8' AS INT64) AS i`,
      );
      expect(rows).toEqual([{ t: new Date('2001-01-01T23:00:00Z'), s: '7', i: 8 }]);
    });

    it('stages rows as one relation and MERGEs them with dedup and QUALIFY', async () => {
      const name = t('merge');
      const d = w.dialect;
      await w.createTable({ name, columns: allTypes });
      const rows = [
        { k: 'a', i: 1, f: 0.5, b: true, ts: new Date('2001-01-01T00:00:00Z') },
        { k: 'a', i: 2, f: 1.5, b: false, ts: new Date('2001-01-02T00:00:00Z') },
        { k: 'b', i: null, f: null, b: null, ts: null },
      ];
      const merge = async () =>
        w.withRows(allTypes, rows, (rel) =>
          w.execute(
            `MERGE INTO ${d.table(name)} AS t USING (SELECT * FROM ${rel.sql}) AS s ON t.k = s.k AND t.i = s.i
             WHEN NOT MATCHED THEN INSERT (k, i, f, b, ts) VALUES (s.k, s.i, s.f, s.b, s.ts)`,
            { params: rel.params },
          ),
        );
      await merge();
      await merge(); // rows with non-null i are deduplicated; the null-keyed row is inserted again (NULL never matches)
      const got = await w.query(`SELECT k, i, f, b, ts FROM ${d.table(name)} ORDER BY k, i`);
      expect(got.filter((r) => r.k === 'a')).toEqual(rows.slice(0, 2));
      expect(got.filter((r) => r.k === 'b')).toHaveLength(2);
      const latest = await w.query(
        `SELECT k, i FROM ${d.table(name)} WHERE ts IS NOT NULL QUALIFY ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts DESC) = 1`,
      );
      expect(latest).toEqual([{ k: 'a', i: 2 }]);
    });

    it('stages 20k rows in one batch', async () => {
      const cols: ColumnSchema[] = [{ name: 'id', type: 'INT64' }, { name: 'v', type: 'STRING' }];
      const rows = Array.from({ length: 20_000 }, (_, id) => ({ id, v: `v${id}` }));
      const got = await w.withRows(cols, rows, (rel) => w.query(`SELECT COUNT(*) AS n, SUM(id) AS s FROM ${rel.sql}`, { params: rel.params }));
      expect(got).toEqual([{ n: 20_000, s: (19_999 * 20_000) / 2 }]);
    });

    it('stages a CSV file (all values as strings when no schema is given) and a JSONL file with a schema', async () => {
      const csv = join(dir, 'a.csv');
      await writeFile(csv, 'k,n\nx,1\n"y,z",2\n');
      const rows = await w.withFile(await h.fileUri(csv), 'csv', undefined, (rel) => w.query(`SELECT k, n FROM ${rel.sql} ORDER BY k`, { params: rel.params }));
      expect(rows).toEqual([{ k: 'x', n: '1' }, { k: 'y,z', n: '2' }]);
      const jsonl = join(dir, 'b.jsonl');
      await writeFile(jsonl, '{"k":"x","n":1.5}\n{"k":"y","n":null}\n');
      const rows2 = await w.withFile(await h.fileUri(jsonl), 'jsonl', [{ name: 'k', type: 'STRING' }, { name: 'n', type: 'FLOAT64' }], (rel) =>
        w.query(`SELECT k, n FROM ${rel.sql} ORDER BY k`, { params: rel.params }),
      );
      expect(rows2).toEqual([{ k: 'x', n: 1.5 }, { k: 'y', n: null }]);
    });

    it('exports a query result to CSV', async () => {
      const uri = h.exportUri('out.csv');
      const written = await w.exportQuery(`SELECT 1 AS a, 'x' AS b`, { uri, format: 'csv' });
      expect(written.length).toBeGreaterThan(0);
      const text = (await h.readExport(written[0]!)).toString('utf8');
      expect(text.trim().split(/\r?\n/)).toEqual(['a,b', '1,x']);
    });

    it('rejects bad SQL with a permanent typed error', async () => {
      await expect(w.query('SELECT no_such_column FROM (SELECT 1 AS a) AS q')).rejects.toMatchObject({ kind: 'permanent' });
    });

    it('drops tables', async () => {
      const name = t('drop');
      await w.createTable({ name, columns: [{ name: 'k', type: 'STRING' }] });
      await w.dropTable(name);
      expect(await w.getTable(name)).toBeNull();
      await w.dropTable(name); // idempotent
    });
  });
}
