import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createDuckDbWarehouse } from '../shared/adapters/warehouse/duckdb/index.js';
import { LocalObjectStore } from '../shared/adapters/object-store/index.js';
import { EmbeddedOnlineStore } from '../shared/adapters/online-store/embedded/index.js';
import { applyFeatureRepo } from '../shared/features/apply.js';
import { parseFeatureRepo } from '../shared/features/definitions.js';
import { loadFeatureFile } from '../shared/features/load-file.js';

/** One measured load for bench/backfill.ts, in its own process: prints { ms, rssMb, rows, path } as JSON. */
const [kind, file, parent] = process.argv.slice(2) as [string, string, string];
const dir = await mkdtemp(join(parent, 'run-'));
let peak = 0;
let heapPeak = 0;
const sample = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
  if (process.env.BENCH_HEAP) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
}, 20);
const memoryLimit = process.env.CTLOOP_DUCKDB_MEMORY_LIMIT;
const warehouse = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb'), ...(memoryLimit ? { memoryLimit } : {}) });
const repo = parseFeatureRepo({
  entities: [{ name: 'user', joinKeys: [{ name: 'user_id', type: 'STRING' }] }],
  featureViews: [{ name: 'user_stats', entity: 'user', timestampField: 'ts', ttl: '1d', features: [
    { name: 'clicks', type: 'INT64' }, { name: 'spend', type: 'FLOAT64' }, { name: 'country', type: 'STRING' },
  ] }],
});
await applyFeatureRepo(warehouse, repo);
const online = await EmbeddedOnlineStore.open({ dir: join(dir, 'online') });
let path = '';
const timings = process.env.BENCH_TIMINGS === '1';
const steps: [string, number, number][] = [];
const onStep = (step: string, ms: number, cpuMs: number) => { steps.push([step, Math.round(ms), Math.round(cpuMs)]); };
const t = process.hrtime.bigint();
const cpu0 = process.cpuUsage();
let rows: number;
if (kind === 'native') {
  const r = await warehouse.execute(`INSERT INTO ${warehouse.dialect.table('fv_user_stats')} SELECT user_id, ts, clicks, spend, country, ts, 'n:' || ts, ts FROM read_csv('${file}', header = true, columns = {'user_id': 'VARCHAR', 'ts': 'TIMESTAMP', 'clicks': 'BIGINT', 'spend': 'DOUBLE', 'country': 'VARCHAR'})`);
  rows = r.affectedRows ?? 0;
} else {
  const res = await loadFeatureFile({ warehouse, online, repo, objectStore: new LocalObjectStore(join(dir, 'o')), onPath: (p, why) => { path = why ? `${p}: ${why}` : p; }, ...(timings ? { onStep } : {}) }, { view: 'user_stats', uri: file, ...(kind === 'rows' ? { executor: 'rows' as const } : {}) });
  rows = res.accepted;
}
const ms = Number(process.hrtime.bigint() - t) / 1e6;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000; // every thread of the process (DuckDB's too): steadier than wall time on a shared machine
peak = Math.max(peak, process.memoryUsage.rss());
clearInterval(sample);
if (process.env.BENCH_HEAP) console.error(`JS heap peak ${Math.round(heapPeak / 1e6)} MB, now ${JSON.stringify(Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, Math.round(v / 1e6)])))}`);
await online.close();
await warehouse.close();
await rm(dir, { recursive: true, force: true });
console.log(JSON.stringify({ ms, cpuMs: Math.round(cpuMs), rssMb: Math.round(peak / 1e6), rows, ...(kind === 'native' ? {} : { path }), ...(timings ? { steps } : {}) }));
