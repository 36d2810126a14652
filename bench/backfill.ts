import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { connectUtc } from '../shared/adapters/warehouse/duckdb/connect.js';
import { line } from './util.js';

/**
 * Backfill throughput: one CSV (and the same rows as Parquet) of one view with 3 features and 200k entities, loaded
 * by `loadFeatureFile` into a fresh DuckDB warehouse, each run in its own process so peak RSS is that load's alone.
 * Baseline in the same run: DuckDB's own typed `INSERT … SELECT FROM read_csv` of the same file, in its own process.
 * CTLOOP_DUCKDB_MEMORY_LIMIT (default 1GB here) bounds DuckDB's buffer pool in both.
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

function child(kind: string, file: string, dir: string): { ms: number; rssMb: number; rows: number; path?: string } {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [join(process.cwd(), 'bin/run-ts.mjs'), self.replace(/backfill\.ts$/, 'backfill-child.ts'), kind, file, dir], {
    encoding: 'utf8', env: { ...process.env, CTLOOP_DUCKDB_MEMORY_LIMIT: process.env.CTLOOP_DUCKDB_MEMORY_LIMIT ?? '1GB', METADATA_SERVER_DETECTION: 'none' },
  });
  if (r.status !== 0) throw new Error(`backfill child ${kind} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { ms: number; rssMb: number; rows: number; path?: string };
}

export async function runBackfillBench(opts: { sizes: number[] }): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-bench-backfill-'));
  try {
    console.log(`\nbackfill: features ingest of one file (1 view, 3 features, ${ENTITIES.toLocaleString('en-US')} entities), DuckDB memory limit ${process.env.CTLOOP_DUCKDB_MEMORY_LIMIT ?? '1GB'}`);
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
      const native = child('native', csv, dir);
      const engine = child('ctloop', csv, dir);
      const parquet = child('ctloop', pq, dir);
      const fmt = (r: { ms: number; rssMb: number; rows: number; path?: string }) => `${(r.ms / 1000).toFixed(2)} s → ${Math.round(rows / (r.ms / 1000)).toLocaleString('en-US')} rows/s, peak RSS ${r.rssMb} MB${r.path ? ` (${r.path})` : ''}`;
      console.log(`  ${rows.toLocaleString('en-US')} rows (${mb.toFixed(0)} MB CSV)`);
      line('  baseline: DuckDB INSERT … SELECT FROM read_csv', fmt(native));
      line('  ctloop features ingest, CSV', `${fmt(engine)}; ${(engine.ms / native.ms).toFixed(1)}× the baseline`);
      line('  ctloop features ingest, Parquet', fmt(parquet));
      line('  goal ≥ 1,000,000 rows/s (CSV)', rows / (engine.ms / 1000) >= 1e6 ? 'met' : 'NOT met');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
