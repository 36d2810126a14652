import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWarehouse } from '../../../shared/adapters/warehouse/index.js';
import { ValidationError } from '../../../shared/errors.js';
import { computeMetrics } from '../../../shared/evaluation/metrics.js';
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import { featurePlan } from '../../../shared/serving/features.js';
import { ingestLabels, readLabelsFile, SERVING_LABELS_TABLE } from '../../../shared/serving/labels.js';
import { liveMetrics } from '../../../shared/serving/monitor.js';
import { SERVING_LOG_TABLE, ServingLog, writeServingLog, type ServingLogRow } from '../../../shared/serving/serving-log.js';
import { startBigQueryTestWarehouse, type BigQueryTestWarehouse } from '../../helpers/bigquery-standin.js';
import { servedSpec, servingRepo } from '../../helpers/serving-fixtures.js';
import { analyzerUnavailableReason } from '../../helpers/zetasql.js';

const plan = featurePlan(servingRepo(), servedSpec);
const day1 = Date.parse('2001-04-10T00:00:00Z');
const day2 = Date.parse('2001-04-11T00:00:00Z');

/** 40 predictions: versions 1 and 2, two days, routes ORD→LAX and SFO→JFK, deterministic scores. */
function logRows(): ServingLogRow[] {
  return Array.from({ length: 40 }, (_, i) => ({
    requestId: `r${i}`, instanceIndex: 0, loggedAt: new Date((i < 20 ? day1 : day2) + (i % 20) * 600_000), model: 'flight_delay',
    version: i % 2 === 0 ? '1' : '2', deployedModelId: `d${i % 2}`, features: { hour: i % 24 }, prediction: ((i * 37) % 100) / 100, latencyMs: 1.5, error: null,
    entityKey: i % 4 === 0 ? '{"airport":"ORD","destination":"LAX","origin":"ORD"}' : '{"airport":"SFO","destination":"JFK","origin":"SFO"}',
  }));
}

function suite(name: string, open: () => Promise<{ w: Warehouse; cleanup: () => Promise<void> }>, skipReason: string | null = null) {
  describe.skipIf(skipReason !== null)(`serving log, delayed labels and live metrics on ${name}${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
    let w: Warehouse;
    let cleanup: () => Promise<void>;
    let dir: string;
    beforeAll(async () => {
      ({ w, cleanup } = await open());
      dir = mkdtempSync(join(tmpdir(), 'ctloop-labels-'));
    });
    afterAll(async () => { await cleanup?.(); rmSync(dir, { recursive: true, force: true }); });

    it('writes batches once (a retried batch adds nothing), failed predictions included', async () => {
      const rows = logRows();
      const log = new ServingLog(w, { flushMs: 0, maxBatch: 1000 });
      log.append(rows.slice(0, 25));
      log.append([{ ...rows[0]!, requestId: 'failed', prediction: null, version: null, error: 'server exited' }]);
      await log.flush();
      await writeServingLog(w, rows); // r0…r24 again (a retry after a write that committed) plus r25…r39
      await log.close();
      const n = await w.query(`SELECT COUNT(*) AS n, COUNT(prediction) AS p FROM ${w.dialect.table(SERVING_LOG_TABLE)}`);
      expect([Number(n[0]!.n), Number(n[0]!.p)]).toEqual([41, 40]);
      expect(log.written).toBe(26);
    });

    it('joins labels by request id and by entity + time (latest prediction in the window), upserts once, reports unmatched lines', async () => {
      const file = join(dir, 'labels.jsonl');
      const lines = [
        ...Array.from({ length: 40 }, (_, i) => ({ request_id: `r${i}`, label: (i * 7) % 3 === 0 ? 1 : 0 })),
        { request_id: 'unknown', label: 1 },                                                 // line 41: no such request
        { origin: 'ORD', destination: 'LAX', time: '2001-04-11T03:30:00Z', label: true },     // line 42: latest ORD→LAX ≤ time: r36 (02:40)
        { origin: 'ORD', destination: 'LAX', time: '2001-03-01T00:00:00Z', label: 0 },        // line 43: nothing in the day before
        { request_id: 'failed', label: 1 },                                                  // line 44: a failed prediction is never labelled
      ];
      writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n'));
      const labels = await readLabelsFile(file, plan);
      const r = await ingestLabels(w, 'flight_delay', labels, { now: new Date(day2 + 86_400_000) });
      expect(r).toEqual({ read: 44, labelled: 40, unmatchedLines: [41, 43, 44] });
      const r36 = await w.query(`SELECT label FROM ${w.dialect.table(SERVING_LABELS_TABLE)} WHERE request_id = 'r36'`);
      expect(r36.map((x) => Number(x.label))).toEqual([1]); // line 42 came later in the file than line 37 (label 0)
      const again = await ingestLabels(w, 'flight_delay', labels);
      expect(again.labelled).toBe(40);
      const n = await w.query(`SELECT COUNT(*) AS n FROM ${w.dialect.table(SERVING_LABELS_TABLE)}`);
      expect(Number(n[0]!.n)).toBe(40);
    });

    it('live AUC and log loss per version and day equal shared/evaluation/metrics.ts over the joined pairs', async () => {
      const rows = logRows();
      const label = (i: number) => (i === 36 ? 1 : (i * 7) % 3 === 0 ? 1 : 0);
      const m = await liveMetrics(w, 'flight_delay');
      expect(m.map((x) => `${x.version}/${x.day}`)).toEqual(['1/2001-04-10', '1/2001-04-11', '1/all', '2/2001-04-10', '2/2001-04-11', '2/all']);
      for (const x of m) {
        const idx = rows.map((_, i) => i).filter((i) => rows[i]!.version === x.version && (x.day === 'all' || rows[i]!.loggedAt.toISOString().startsWith(x.day)));
        const want = computeMetrics(idx.map(label), idx.map((i) => rows[i]!.prediction!));
        expect(x.predictions).toBe(idx.length);
        expect(x.labelled).toBe(idx.length);
        expect(x.auc).toBeCloseTo(want.auc!, 12);
        expect(x.logLoss).toBeCloseTo(want.log_loss!, 12);
      }
      expect(await liveMetrics(w, 'other_model')).toEqual([]);
    });

    it('refuses a labels file with any bad row, naming the lines, and ingests nothing', async () => {
      const file = join(dir, 'bad.jsonl');
      writeFileSync(file, [
        JSON.stringify({ request_id: 'r1', label: 2 }),
        JSON.stringify({ origin: 'ORD', label: 1, time: '2001-04-10T00:00:00Z' }),
        JSON.stringify({ origin: 'ORD', destination: 'LAX', label: 1 }),
        JSON.stringify({ request_id: 'r1', label: 0, time: '2001-02-30T00:00:00Z' }),
      ].join('\n'));
      const err = await readLabelsFile(file, plan).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/4 bad label rows, nothing ingested/);
      expect(msg).toMatch(/line 1: label must be 0, 1/);
      expect(msg).toMatch(/line 2: without request_id a label needs destination/);
      expect(msg).toMatch(/line 3: without request_id a label needs time/);
      expect(msg).toMatch(/line 4: time/);
    });
  });
}

suite('DuckDB', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ctloop-slog-'));
  const w = await createWarehouse({ kind: 'duckdb', path: join(dir, 'w.duckdb') });
  return { w, cleanup: async () => { await w.close(); rmSync(dir, { recursive: true, force: true }); } };
});

const unavailable = analyzerUnavailableReason();
if (unavailable) console.warn(`skipping the BigQuery serving-log suite: ${unavailable}`);
suite('BigQuery (stand-in + ZetaSQL)', async () => {
  const bq: BigQueryTestWarehouse = await startBigQueryTestWarehouse();
  return { w: bq.warehouse, cleanup: () => bq.cleanup() };
}, unavailable);
