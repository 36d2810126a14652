import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendError, TransientError, ValidationError } from '../../shared/errors.js';
import type { ColumnSchema, Warehouse } from '../../shared/ports/warehouse.js';
import { startBigQueryTestWarehouse, type BigQueryTestWarehouse } from '../helpers/bigquery-standin.js';
import { translate } from '../helpers/bigquery-translate.js';
import { analyzerUnavailableReason } from '../helpers/zetasql.js';

const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`skipping BigQuery adapter tests: ${unavailable}`);

describe('stand-in SQL translation (GoogleSQL → DuckDB)', () => {
  const ctx = { project: 'ctloop-local', datasets: new Set(['ctloop']) };
  it('re-quotes identifiers and strings, drops the project, rewrites parameters and UNNEST', () => {
    expect(translate("SELECT `k`, 'it\\'s', \"x\" FROM `ctloop-local.ctloop.t` WHERE a = @a", ctx))
      .toBe(`SELECT "k", 'it''s', 'x' FROM "ctloop"."t" WHERE a = $a`);
    expect(translate('SELECT * FROM UNNEST(@rows) WHERE k IN UNNEST(@keys)', ctx))
      .toBe('SELECT * FROM (SELECT UNNEST($rows, recursive := true)) WHERE k IN (SELECT UNNEST($keys, recursive := true))');
    expect(translate("SELECT '@not_a_param', APPROX_QUANTILES(f(x, y), 4) FROM t", ctx))
      .toBe("SELECT '@not_a_param', quantile_disc(f(x, y), [0, 0.25, 0.5, 0.75, 1]) FROM t");
    expect(translate('SELECT * EXCEPT (a), SAFE_CAST(b AS INT64) FROM `ctloop-local`.ctloop.t', ctx))
      .toBe('SELECT * EXCLUDE (a), bq_safe_int64(b) FROM ctloop.t');
  });
});

describe.skipIf(unavailable !== null)('BigQuery adapter against the REST stand-in', () => {
  let bq: BigQueryTestWarehouse;
  let w: Warehouse;
  const cols: ColumnSchema[] = [
    { name: 'k', type: 'STRING', mode: 'REQUIRED' }, { name: 'v', type: 'FLOAT64' }, { name: 'ts', type: 'TIMESTAMP' },
  ];
  beforeAll(async () => {
    bq = await startBigQueryTestWarehouse();
    w = bq.warehouse;
  });
  afterAll(async () => { await bq?.cleanup(); });
  const since = () => { const n = bq.standin.requests.length; return () => bq.standin.requests.slice(n); };

  it('created the dataset in its location on start', () => {
    const [get, post] = bq.standin.requests;
    expect(get).toMatchObject({ method: 'GET', path: '/datasets/ctloop' });
    expect(post).toMatchObject({ method: 'POST', path: '/datasets', body: { datasetReference: { projectId: 'ctloop-local', datasetId: 'ctloop' }, location: 'US' } });
  });

  it('creates tables with DAY partitioning, clustering and labels, and reads them back', async () => {
    const reqs = since();
    await w.createTable({ name: 'events', columns: cols, partitionBy: 'ts', clusterBy: ['k'], labels: { view: 'Trips' } });
    expect(reqs()[0]).toMatchObject({
      method: 'POST', path: '/datasets/ctloop/tables',
      body: {
        tableReference: { projectId: 'ctloop-local', datasetId: 'ctloop', tableId: 'events' },
        schema: { fields: [{ name: 'k', type: 'STRING', mode: 'REQUIRED' }, { name: 'v', type: 'FLOAT64', mode: 'NULLABLE' }, { name: 'ts', type: 'TIMESTAMP', mode: 'NULLABLE' }] },
        timePartitioning: { type: 'DAY', field: 'ts' }, clustering: { fields: ['k'] }, labels: { app: 'ctloop', view: 'trips' },
      },
    });
    expect(await w.getTable('events')).toMatchObject({ name: 'events', partitionBy: 'ts', clusterBy: ['k'], columns: cols });
    await expect(w.createTable({ name: 'bad', columns: cols, partitionBy: 'v' })).rejects.toBeInstanceOf(ValidationError);
  });

  it('ingests a batch as ONE MERGE job with an ARRAY<STRUCT> parameter (no insertAll, no streaming)', async () => {
    const rows = [
      { k: 'a', v: 1, ts: new Date('2001-01-01T00:00:00Z') },
      { k: 'a', v: 2, ts: new Date('2001-01-02T00:00:00Z') },
      { k: 'b', v: 3, ts: new Date('2001-01-01T12:00:00Z') },
    ];
    const reqs = since();
    const d = w.dialect;
    const res = await w.withRows(cols, rows, (rel) => w.execute(
      `MERGE INTO ${d.table('events')} AS t USING (SELECT * FROM ${rel.sql}) AS s ON t.k = s.k AND t.ts = s.ts
       WHEN NOT MATCHED THEN INSERT (k, v, ts) VALUES (s.k, s.v, s.ts)`,
      { params: rel.params, labels: { op: 'ingest' } },
    ));
    expect(res.affectedRows).toBe(3);
    const sent = reqs();
    expect(sent).toHaveLength(1);
    expect(sent.some((r) => r.path.endsWith('/insertAll'))).toBe(false);
    const body = sent[0]!.body;
    expect(body).toMatchObject({ useLegacySql: false, parameterMode: 'NAMED', labels: { app: 'ctloop', op: 'ingest' }, formatOptions: { useInt64Timestamp: true } });
    expect(typeof body.requestId).toBe('string');
    expect(body.queryParameters).toHaveLength(1);
    expect(body.queryParameters[0].parameterType).toEqual({
      type: 'ARRAY', arrayType: { type: 'STRUCT', structTypes: [{ name: 'k', type: { type: 'STRING' } }, { name: 'v', type: { type: 'FLOAT64' } }, { name: 'ts', type: { type: 'TIMESTAMP' } }] },
    });
    expect(body.queryParameters[0].parameterValue.arrayValues[0]).toEqual({
      structValues: { k: { value: 'a' }, v: { value: '1' }, ts: { value: '2001-01-01T00:00:00.000Z' } },
    });
  });

  it('runs a QUALIFY point-in-time join and APPROX_QUANTILES, returning Dates and numbers', async () => {
    const d = w.dialect;
    const spine = [{ id: 1, k: 'a', at: new Date('2001-01-01T18:00:00Z') }, { id: 2, k: 'a', at: new Date('2001-01-03T00:00:00Z') }, { id: 3, k: 'c', at: new Date('2001-01-03T00:00:00Z') }];
    const spineCols: ColumnSchema[] = [{ name: 'id', type: 'INT64' }, { name: 'k', type: 'STRING' }, { name: 'at', type: 'TIMESTAMP' }];
    const got = await w.withRows(spineCols, spine, (rel) => w.query(
      `WITH s AS (SELECT * FROM ${rel.sql}),
       f AS (
         SELECT s.id, e.v, e.ts FROM s JOIN ${d.table('events')} AS e
           ON e.k = s.k AND e.ts <= s.at AND e.ts >= TIMESTAMP_SUB(s.at, INTERVAL 86400 SECOND)
         WHERE e.ts BETWEEN ${d.timestamp(new Date('2000-12-31T00:00:00Z'))} AND ${d.timestamp(new Date('2001-01-04T00:00:00Z'))}
         QUALIFY ROW_NUMBER() OVER (PARTITION BY s.id ORDER BY e.ts DESC) = 1
       )
       SELECT s.id, f.v, f.ts FROM s LEFT JOIN f ON f.id = s.id ORDER BY s.id`,
      { params: rel.params },
    ));
    expect(got).toEqual([
      { id: 1, v: 1, ts: new Date('2001-01-01T00:00:00Z') },
      { id: 2, v: 2, ts: new Date('2001-01-02T00:00:00Z') },
      { id: 3, v: null, ts: null },
    ]);
    const [q] = await w.query(`SELECT APPROX_QUANTILES(v, 2) AS q, COUNT(*) AS n FROM ${d.table('events')}`);
    expect(q).toEqual({ q: [1, 2, 3], n: 3 });
  });

  it('loads a gs:// file through a staging table with an expiration, then drops it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ctloop-bqload-'));
    await writeFile(join(dir, 'x.csv'), 'k,v,ts\nz,2.5,2001-01-01 00:00:00+00\n');
    const uri = await bq.upload(join(dir, 'x.csv'));
    await rm(dir, { recursive: true, force: true });
    const reqs = since();
    const rows = await w.withFile(uri, 'csv', cols, (rel) => w.query(`SELECT k, v, ts FROM ${rel.sql}`));
    expect(rows).toEqual([{ k: 'z', v: 2.5, ts: new Date('2001-01-01T00:00:00Z') }]);
    const sent = reqs();
    const create = sent.find((r) => r.method === 'POST' && r.path === '/datasets/ctloop/tables')!;
    expect(Number(create.body.expirationTime)).toBeGreaterThan(Date.now());
    const staging = create.body.tableReference.tableId as string;
    expect(sent.find((r) => r.path === '/jobs')?.body.configuration.load).toMatchObject({
      sourceUris: [uri], sourceFormat: 'CSV', skipLeadingRows: 1, destinationTable: { tableId: staging },
    });
    expect(sent.at(-1)).toMatchObject({ method: 'DELETE', path: `/datasets/ctloop/tables/${staging}` });
    expect(await w.getTable(staging)).toBeNull();
    await expect(w.withFile('/local/x.csv', 'csv', cols, async () => 1)).rejects.toBeInstanceOf(ValidationError);
  });

  it('exports with EXPORT DATA and returns the shard URIs BigQuery writes', async () => {
    const written = await w.exportQuery(`SELECT k, v FROM ${w.dialect.table('events')} ORDER BY k, v`, { uri: 'gs://ctloop-test/x/out.parquet', format: 'parquet' });
    expect(written).toEqual(['gs://ctloop-test/x/out-000000000000.parquet']);
    expect(bq.standin.statements.at(-1)).toMatch(/^EXPORT DATA OPTIONS \(uri = 'gs:\/\/ctloop-test\/x\/out-\*\.parquet', format = 'PARQUET'/);
    expect((await readFile(bq.standin.localPath(written[0]!))).subarray(0, 4).toString()).toBe('PAR1');
  });

  it('maps BigQuery errors to typed errors with hints', async () => {
    const typo = w.query(`SELECT amout FROM ${w.dialect.table('events')}`);
    await expect(typo).rejects.toBeInstanceOf(BackendError);
    await expect(typo).rejects.toMatchObject({ message: expect.stringMatching(/invalidQuery.*Unrecognized name: amout/), hint: expect.stringMatching(/report it/) });
    // A missing table or grant is a deployment fault: retried (then dead-lettered by Pub/Sub, which is alerted).
    await expect(w.query(`SELECT 1 FROM ${w.dialect.table('missing')}`)).rejects.toMatchObject({ kind: 'transient', hint: expect.stringMatching(/create the tables/) });
    bq.standin.failNext({ path: /^\/queries$/ }, 503, 'backendError');
    await expect(w.query('SELECT 1 AS x')).rejects.toBeInstanceOf(TransientError);
    bq.standin.failNext({ path: /^\/queries$/ }, 403, 'rateLimitExceeded');
    await expect(w.query('SELECT 1 AS x')).rejects.toBeInstanceOf(TransientError);
    bq.standin.failNext({ path: /^\/queries$/ }, 403, 'accessDenied');
    await expect(w.query('SELECT 1 AS x')).rejects.toMatchObject({ kind: 'transient', hint: expect.stringMatching(/roles\/bigquery\.jobUser/) });
    bq.standin.failNext({ method: 'GET', path: /^\/datasets\/ctloop\/tables\// }, 404, 'notFound');
    await expect(w.addColumns('events', [{ name: 'x', type: 'STRING' }])).rejects.toBeInstanceOf(TransientError);
    expect(await w.query('SELECT 1 AS x')).toEqual([{ x: 1 }]);
  });

  it('refuses a rows parameter over the 10 MB request limit before sending it', async () => {
    const rows = Array.from({ length: 60_000 }, (_, i) => ({ k: `${'x'.repeat(150)}${i}`, v: i, ts: null }));
    const reqs = since();
    await expect(w.withRows(cols, rows, (rel) => w.query(`SELECT COUNT(*) AS n FROM ${rel.sql}`, { params: rel.params })))
      .rejects.toMatchObject({ kind: 'permanent', hint: expect.stringMatching(/split the batch/) });
    expect(reqs()).toHaveLength(0);
  });
});
