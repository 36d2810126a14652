import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { connectUtc } from '../shared/adapters/warehouse/duckdb/connect.js';
import { line, median } from './util.js';

/**
 * Backfill throughput (`npm run bench -- load`, also `backfill`): one CSV (and the same rows as Parquet) of one view
 * with 3 features and 200k entities, loaded by `loadFeatureFile` into a fresh DuckDB warehouse, each run in its own
 * process so peak RSS is that load's alone. Baseline in the same run: DuckDB's own typed `INSERT … SELECT FROM
 * read_csv` of the same file, in its own process. CTLOOP_DUCKDB_MEMORY_LIMIT (default 1GB here) bounds DuckDB's
 * buffer pool in both. Medians of `repeats` runs of each, interleaved; the steps of ctloop's median CSV run are
 * printed (where the time goes).
 */
const ENTITIES = 200_000;

async function writeCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  const t0 = Date.parse('2024-01-01T00:00:00Z');
  out.write('user_id,ts,clicks,spend,country\n');
  let buf = '';
  for (let i = 0; i < rows; i++) {
    buf += `u${(i * 7919) % ENTITIES},${new Date(t0 + i * 1000).toISOString()},${i % 50},${((i % 1000) / 7).toFixed(3)},${['US', 'FR', 'DE', 'JP'][i % 4]}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

interface Run { ms: number; cpuMs: number; rssMb: number; rows: number; path?: string; steps?: [string, number, number][] }

function child(kind: string, file: string, dir: string): Run {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [join(process.cwd(), 'bin/run-ts.mjs'), self.replace(/backfill\.ts$/, 'backfill-child.ts'), kind, file, dir], {
    encoding: 'utf8', maxBuffer: 1 << 26,
    env: { ...process.env, BENCH_TIMINGS: '1', CTLOOP_DUCKDB_MEMORY_LIMIT: process.env.CTLOOP_DUCKDB_MEMORY_LIMIT ?? '1GB', METADATA_SERVER_DETECTION: 'none' },
  });
  if (r.status !== 0) throw new Error(`backfill child ${kind} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Run;
}

function summary(runs: Run[]): Run {
  const byMs = [...runs].sort((a, b) => a.ms - b.ms);
  return { ...byMs[Math.floor((byMs.length - 1) / 2)]!, ms: median(runs.map((r) => r.ms)), cpuMs: median(runs.map((r) => r.cpuMs)), rssMb: Math.max(...runs.map((r) => r.rssMb)) };
}

export async function runBackfillBench(opts: { sizes: number[]; repeats: number; note?: string }): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-bench-backfill-'));
  try {
    console.log(`\nload (backfill): features ingest of one file (1 view, 3 features, ${ENTITIES.toLocaleString('en-US')} entities), DuckDB memory limit ${process.env.CTLOOP_DUCKDB_MEMORY_LIMIT ?? '1GB'}, median of ${opts.repeats} runs each (peak RSS: the highest)`);
    if (opts.note) console.log(`  ${opts.note}`);
    const table: string[] = [];
    for (const rows of opts.sizes) {
      const csv = join(dir, `rows-${rows}.csv`);
      await writeCsv(csv, rows);
      const pq = join(dir, `rows-${rows}.parquet`);
      const db = await DuckDBInstance.create(':memory:');
      const c = await connectUtc(db);
      await c.run(`COPY (SELECT * FROM read_csv('${csv}')) TO '${pq}' (FORMAT parquet)`);
      c.closeSync();
      db.closeSync();
      const mb = (await stat(csv)).size / 1e6;
      const runs: Record<'native' | 'csv' | 'parquet', Run[]> = { native: [], csv: [], parquet: [] };
      for (let i = 0; i < opts.repeats; i++) {
        runs.native.push(child('native', csv, dir));
        runs.csv.push(child('ctloop', csv, dir));
        runs.parquet.push(child('ctloop', pq, dir));
      }
      const [native, engine, parquet] = [summary(runs.native), summary(runs.csv), summary(runs.parquet)];
      const rate = (r: Run) => rows / (r.ms / 1000);
      const fmt = (r: Run) => `${(r.ms / 1000).toFixed(2)} s → ${Math.round(rate(r)).toLocaleString('en-US')} rows/s (CPU ${(r.cpuMs / 1000).toFixed(1)} s), peak RSS ${r.rssMb} MB${r.path && r.path !== 'engine' ? ` (${r.path})` : ''}`;
      console.log(`  ${rows.toLocaleString('en-US')} rows (${mb.toFixed(0)} MB CSV), load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} (2 cores)`);
      line('  baseline: DuckDB INSERT … SELECT FROM read_csv', fmt(native));
      line('  ctloop features ingest, CSV', `${fmt(engine)}; ${(engine.ms / native.ms).toFixed(2)}× the baseline (CPU ${(engine.cpuMs / native.cpuMs).toFixed(2)}×)`);
      line('  ctloop features ingest, Parquet', `${fmt(parquet)}; ${(parquet.ms / native.ms).toFixed(2)}× the CSV baseline`);
      console.log(`    steps of the median CSV run (wall/CPU ms): ${(engine.steps ?? []).filter(([s]) => !s.startsWith('online: ')).map(([s, ms, cpu]) => `${s} ${ms}/${cpu}`).join(', ')}`);
      table.push(`  ${rows.toLocaleString('en-US').padStart(10)}  ${Math.round(rate(engine)).toLocaleString('en-US').padStart(10)} rows/s  ${(engine.ms / native.ms).toFixed(2).padStart(5)}× native (CPU ${(engine.cpuMs / native.cpuMs).toFixed(2)}×)  RSS ${String(engine.rssMb).padStart(5)} MB (native ${native.rssMb} MB)`);
    }
    console.log('  summary (CSV):');
    for (const t of table) console.log(t);
    if (table.length > 0) console.log('  goals: ≥ 1,000,000 rows/s, within 3× of the native insert, peak RSS flat from 1M to 16M rows');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
