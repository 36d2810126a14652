import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDuckDbWarehouse } from '../shared/adapters/warehouse/duckdb/index.js';
import { createObjectStore } from '../shared/adapters/object-store/index.js';
import { EmbeddedOnlineStore } from '../shared/adapters/online-store/embedded/index.js';
import { loadConfig } from '../shared/config/config.js';
import { catalog, createEvent } from '../shared/events/catalog.js';
import { applyFeatureRepo } from '../shared/features/apply.js';
import { parseFeatureRepo } from '../shared/features/definitions.js';
import { cloudEventFunction } from '../shared/runtime/cloud-event.js';
import type { Runtime } from '../shared/runtime/runtime.js';
import { setLogThreshold } from '../shared/runtime/log.js';
import { ingestFeaturesHandler } from '../functions/ingest-features/handler.js';
import { fmtMs, line, median } from './util.js';

/**
 * Ingest throughput: feature-row events through the ingest-features handler (CloudEvent decode, envelope and row
 * validation, batched MERGE into the offline table with dedup, online upsert) into DuckDB, one process, one event
 * at a time. Baseline in the same run: the same rows written row by row (one INSERT each), the pattern a naive
 * consumer uses.
 */
export async function runIngestBench(opts: { events: number; rowsPerEvent: number; repeats: number; concurrency?: number }): Promise<Record<string, number>> {
  const inFlight = opts.concurrency ?? 1;
  setLogThreshold('error');
  const repo = parseFeatureRepo({
    entities: [{ name: 'user', joinKeys: [{ name: 'user_id', type: 'STRING' }] }],
    featureViews: [{ name: 'user_stats', entity: 'user', timestampField: 'ts', ttl: '1d', features: [
      { name: 'clicks', type: 'INT64' }, { name: 'spend', type: 'FLOAT64' }, { name: 'country', type: 'STRING' }, { name: 'active', type: 'BOOL' },
    ] }],
  });
  const t0 = Date.parse('2001-01-01T00:00:00Z');
  const mkRows = (e: number) => Array.from({ length: opts.rowsPerEvent }, (_, i) => ({
    user_id: `u${(e * 7919 + i * 104_729) % 100_000}`, ts: new Date(t0 + (e * opts.rowsPerEvent + i) * 1000).toISOString(),
    clicks: i % 50, spend: (i % 1000) / 7, country: ['US', 'FR', 'DE', 'JP'][i % 4], active: i % 3 === 0,
  }));
  const events = Array.from({ length: opts.events }, (_, e) => createEvent('featureRows', { view: 'user_stats', rows: mkRows(e) }, { source: 'bench' }));
  const bodies = events.map((ev, i) => ({
    id: `m${i}`, type: 'google.cloud.pubsub.topic.v1.messagePublished', source: `//pubsub.googleapis.com/projects/p/topics/${catalog.featureRows.topic}`,
    data: { message: { data: Buffer.from(JSON.stringify(ev)).toString('base64'), messageId: `m${i}`, publishTime: ev.time, attributes: {} } },
  }));
  const rowsTotal = opts.events * opts.rowsPerEvent;

  const handlerRuns: number[] = [];
  const naiveRuns: number[] = [];
  for (let r = 0; r < opts.repeats; r++) {
    const dir = await mkdtemp(join(tmpdir(), 'ctloop-bench-ingest-'));
    const warehouse = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb') });
    const online = await EmbeddedOnlineStore.open({ dir: join(dir, 'online') });
    try {
      await applyFeatureRepo(warehouse, repo);
      const config = loadConfig({ CTLOOP_STATE_DIR: dir }, dir);
      const rt: Runtime = { config, warehouse, online, objectStore: createObjectStore(config.objectStore), bus: undefined as never, repo, close: async () => undefined };
      const fn = cloudEventFunction('ingest-features', 'featureRows', ingestFeaturesHandler, async () => rt);
      const t = process.hrtime.bigint();
      // `inFlight` deliveries at a time, as the bus (or a Cloud Functions instance) hands them over; with more than
      // one, the handler's group commit writes the events that arrive during a write together.
      let next = 0;
      await Promise.all(Array.from({ length: inFlight }, async () => {
        while (next < bodies.length) await fn(bodies[next++]!);
      }));
      handlerRuns.push(Number(process.hrtime.bigint() - t) / 1e6);
      const n = Number((await warehouse.query(`SELECT COUNT(*) AS n FROM ${warehouse.dialect.table('fv_user_stats')}`))[0]!.n);
      if (n !== rowsTotal) throw new Error(`ingest bench stored ${n} rows, expected ${rowsTotal}`);

      // Baseline: row-by-row INSERTs of the same rows into a same-shaped table (capped, then extrapolated per row).
      await warehouse.execute(`CREATE TABLE naive AS SELECT * FROM ${warehouse.dialect.table('fv_user_stats')} LIMIT 0`);
      const sample = events.slice(0, Math.max(1, Math.ceil(500 / opts.rowsPerEvent))).flatMap((e) => e.data.rows as Record<string, unknown>[]);
      const d = warehouse.dialect;
      const t2 = process.hrtime.bigint();
      for (const [i, row] of sample.entries()) {
        await warehouse.execute(
          `INSERT INTO naive (user_id, ts, clicks, spend, country, active, _created_ts, _ingest_id, _ingested_at) VALUES (${d.param('u')}, ${d.param('ts')}, ${d.param('c')}, ${d.param('s')}, ${d.param('co')}, ${d.param('a')}, ${d.param('ts')}, ${d.param('id')}, ${d.param('ts')})`,
          { params: { u: { type: 'STRING', value: row.user_id }, ts: { type: 'TIMESTAMP', value: new Date(String(row.ts)) }, c: { type: 'INT64', value: row.clicks }, s: { type: 'FLOAT64', value: row.spend }, co: { type: 'STRING', value: row.country }, a: { type: 'BOOL', value: row.active }, id: { type: 'STRING', value: `n:${i}` } } },
        );
      }
      naiveRuns.push((Number(process.hrtime.bigint() - t2) / 1e6) * (rowsTotal / sample.length));
    } finally {
      await online.close();
      await warehouse.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  const ms = median(handlerRuns);
  const naive = median(naiveRuns);
  const rowsPerS = rowsTotal / (ms / 1000);
  console.log(`\ningest-features handler → DuckDB (${opts.events} events × ${opts.rowsPerEvent} rows, ${inFlight} in flight, median of ${opts.repeats})`);
  line(inFlight > 1 ? 'handler, group commit' : 'handler, one batched MERGE + online upsert per event', `${fmtMs(ms)}  → ${Math.round(rowsPerS).toLocaleString('en-US')} rows/s, ${Math.round(opts.events / (ms / 1000)).toLocaleString('en-US')} events/s`);
  line('baseline: row-by-row INSERT (same rows, extrapolated)', `${fmtMs(naive)}  → ${Math.round(rowsTotal / (naive / 1000)).toLocaleString('en-US')} rows/s`);
  line('speed-up vs row-by-row', `${(naive / ms).toFixed(1)}×`);
  line('goal ≥ 50,000 rows/s', rowsPerS >= 50_000 ? 'met' : 'NOT met');
  return { ingestRowsPerS: rowsPerS, ingestEventsPerS: opts.events / (ms / 1000), ingestSpeedup: naive / ms };
}
