import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDuckDbWarehouse } from '../shared/adapters/warehouse/duckdb/index.js';
import { applyFeatureRepo } from '../shared/features/apply.js';
import { parseFeatureRepo } from '../shared/features/definitions.js';
import { ingestRows } from '../shared/features/ingest.js';
import { getOnlineFeatures } from '../shared/features/online.js';
import { line, median } from './util.js';

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/**
 * Online lookup latency (one entity, all features of a view) on the embedded store, after streaming `rows` feature
 * rows through ingest. Baseline in the same run: the same answer computed from the offline history table with the
 * newest-row window (what a store without an online table must do).
 */
export async function runOnlineBench(opts: { entities: number; rowsPerEntity: number; lookups: number }): Promise<Record<string, number>> {
  const repo = parseFeatureRepo({
    entities: [{ name: 'user', joinKeys: [{ name: 'user_id', type: 'STRING' }] }],
    featureViews: [{ name: 'user_stats', entity: 'user', timestampField: 'ts', ttl: '30d', features: Array.from({ length: 10 }, (_, i) => ({ name: `f${i}`, type: 'FLOAT64' as const })) }],
  });
  const view = repo.view('user_stats');
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-bench-online-'));
  const w = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb') });
  try {
    await applyFeatureRepo(w, repo);
    const t0 = Date.parse('2001-01-01T00:00:00Z');
    const total = opts.entities * opts.rowsPerEntity;
    for (let start = 0; start < total; start += 5000) {
      const rows = Array.from({ length: Math.min(5000, total - start) }, (_, j) => {
        const i = start + j;
        return { user_id: `u${i % opts.entities}`, ts: new Date(t0 + i * 1000).toISOString(), ...Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`f${k}`, (i * (k + 1)) % 1000])) };
      });
      await ingestRows({ warehouse: w, repo }, { view: 'user_stats', sourceId: `b${start}`, rows, createdAt: new Date(t0) });
    }
    const now = () => new Date(t0 + total * 1000);
    const keys = Array.from({ length: opts.lookups }, (_, i) => `u${(i * 7919) % opts.entities}`);
    const online: number[] = [];
    for (const k of keys) {
      const t = performance.now();
      const r = await getOnlineFeatures({ warehouse: w, repo, now }, { view: 'user_stats', entities: [{ user_id: k }] });
      online.push(performance.now() - t);
      if (r.results[0]!.statuses[0] !== 'PRESENT') throw new Error(`lookup of ${k} returned ${r.results[0]!.statuses[0]}`);
    }
    const d = w.dialect;
    const offline: number[] = [];
    for (const k of keys.slice(0, Math.min(200, keys.length))) {
      const t = performance.now();
      await w.query(`SELECT * FROM ${d.table(view.table)} WHERE user_id = ${d.param('k')} QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts DESC, _created_ts DESC, _ingest_id DESC) = 1`, { params: { k: { type: 'STRING', value: k } } });
      offline.push(performance.now() - t);
    }
    console.log(`\nonline lookup on DuckDB: 1 entity × 10 features, ${opts.entities.toLocaleString('en-US')} entities, ${total.toLocaleString('en-US')} history rows (${opts.lookups} lookups)`);
    line('getOnlineFeatures p50 / p99', `${median(online).toFixed(2)} ms / ${pct(online, 99).toFixed(2)} ms`);
    line('baseline: newest row from history (QUALIFY) p50 / p99', `${median(offline).toFixed(2)} ms / ${pct(offline, 99).toFixed(2)} ms`);
    line('speed-up (p50)', `${(median(offline) / median(online)).toFixed(1)}×`);
    return { onlineP50: median(online), onlineP99: pct(online, 99), offlineP50: median(offline) };
  } finally {
    await w.close();
    await rm(dir, { recursive: true, force: true });
  }
}
