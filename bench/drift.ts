import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDuckDbWarehouse } from '../shared/adapters/warehouse/duckdb/index.js';
import { validate } from '../shared/drift/anomalies.js';
import { computeBaselineProfile } from '../shared/drift/baseline-profile.js';
import { compareProfiles } from '../shared/drift/compare.js';
import type { Profile } from '../shared/drift/profile.js';
import { run, windowProfileSql, type FeatureSpec } from '../shared/drift/profile-sql.js';
import type { Warehouse } from '../shared/ports/warehouse.js';

/**
 * Drift benchmark: a current window of N rows × 10 features (6 numerical, 4 categorical) checked against a stored
 * baseline (1M rows) in warehouse mode on DuckDB — the one-scan profile plus the comparison in Node — at 1M and
 * 10M rows, each size checked in a fresh Node process whose peak RSS (and V8 heap) is sampled during the checks
 * (once with DuckDB's default buffer pool, once with a 64 MB memory_limit), with wall and CPU seconds; and the same
 * tests (Evidently's choice for n_ref > 1000: normalised Wasserstein / Jensen-Shannon) in pandas/scipy on the same
 * rows, in the same run.
 * `node bin/run-ts.mjs bench/drift.ts [--small]` or `npm run bench -- drift`.
 */
const NUM = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5'];
const CAT = ['c0', 'c1', 'c2', 'c3'];
const features: FeatureSpec[] = [
  ...NUM.map((name) => ({ name, type: 'FLOAT64' as const, kind: 'numerical' as const })),
  ...CAT.map((name) => ({ name, type: 'STRING' as const, kind: 'categorical' as const })),
];
const PY = '/usr/bin/python3';

/** Rows generated inside DuckDB (never in Node): shifted distributions when `shift` > 0. */
async function makeTable(w: Warehouse, name: string, rows: number, seed: number, shift: number): Promise<void> {
  await w.execute(`SELECT setseed(${seed})`);
  const n = (i: number) => `(sqrt(-2 * ln(greatest(random(), 1e-12))) * cos(2 * pi() * random()))`.replace(/random\(\)/g, `random()`) + ` * ${1 + i * 0.5} + ${i + shift}`;
  await w.execute(`CREATE OR REPLACE TABLE ${name} AS SELECT
    TIMESTAMP '2001-01-01' + to_microseconds(CAST(i AS BIGINT)) AS ts,
    ${NUM.map((c, i) => (i % 3 === 2 ? `exp(${n(0)} / 4) AS ${c}` : i % 3 === 1 ? `floor(random() * ${20 + i} + ${shift * 3}) AS ${c}` : `${n(i)} AS ${c}`)).join(',\n    ')},
    ${CAT.map((c, i) => `'v' || CAST(floor(pow(random(), ${1 + shift}) * ${5 + i * 15}) AS BIGINT) AS ${c}`).join(',\n    ')}
    FROM range(${rows}) t(i)`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface CheckRun {
  /** Seconds of each check: the one-scan profile in DuckDB plus the comparison in Node. */
  seconds: number[];
  /** CPU seconds (user + system, all threads of the process) of each check. */
  cpuSeconds: number[];
  /** RSS of the checking process after opening the database, and its peak during the checks (MB). */
  startRssMb: number;
  peakRssMb: number;
  /** Peak V8 heap during the checks (MB): what Node itself holds. */
  peakHeapMb: number;
  drifted: number;
}

/**
 * One size, measured in a fresh Node process (`--check`) so its peak RSS is that of a process doing only drift
 * checks: the embedded DuckDB opening the database file, the profile statement, the comparison.
 */
async function checkProcess(dbPath: string, table: string, baselinePath: string, repeats: number, memoryLimit: string | undefined): Promise<CheckRun> {
  const w = await createDuckDbWarehouse({ path: dbPath });
  try {
    if (memoryLimit) await w.execute(`SET memory_limit = '${memoryLimit.replace(/[^0-9A-Za-z.]/g, '')}'`);
    const baseline = JSON.parse(await readFile(baselinePath, 'utf8')) as Profile;
    const specs = baseline.features.map((f) => ({ name: f.name, type: f.type, kind: f.kind, bins: f.bins }));
    const startRss = process.memoryUsage().rss;
    let peakRss = startRss;
    let peakHeap = process.memoryUsage().heapUsed;
    const sample = () => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    };
    const timer = setInterval(sample, 5);
    const seconds: number[] = [];
    const cpuSeconds: number[] = [];
    let drifted = 0;
    try {
      for (let i = 0; i < repeats; i++) {
        const t = performance.now();
        const cpu = process.cpuUsage();
        const current = await run(w, windowProfileSql(w.dialect, { relation: table, label: table }, specs));
        const report = compareProfiles(baseline, current, validate(baseline, current, null));
        seconds.push((performance.now() - t) / 1000);
        const used = process.cpuUsage(cpu);
        cpuSeconds.push((used.user + used.system) / 1e6);
        drifted = report.features.filter((f) => f.drifted).length;
        sample();
      }
    } finally {
      clearInterval(timer);
    }
    const mb = (x: number) => Math.round(x / 2 ** 20);
    return { seconds, cpuSeconds, startRssMb: mb(startRss), peakRssMb: mb(peakRss), peakHeapMb: mb(peakHeap), drifted };
  } finally {
    await w.close();
  }
}

function runChild(dbPath: string, table: string, baselinePath: string, repeats: number, memoryLimit?: string): CheckRun {
  const runTs = join(import.meta.dirname, '..', 'bin', 'run-ts.mjs');
  const args = [runTs, join(import.meta.dirname, 'drift.ts'), '--check', dbPath, table, baselinePath, String(repeats), ...(memoryLimit ? [memoryLimit] : [])];
  const out = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (out.status !== 0) throw new Error(`drift check process failed: ${out.stderr.slice(-2000)}`);
  return JSON.parse(out.stdout.trim().split('\n').at(-1)!) as CheckRun;
}

const fmt = (s: number) => s.toFixed(3);
const BOUNDED_POOL = '64MB';

export async function runDriftBench(opts: { small?: boolean; repeats?: number; sizes?: number[] } = {}): Promise<unknown> {
  const sizes = opts.sizes ?? (opts.small ? [1_000_000] : [1_000_000, 10_000_000]);
  const repeats = opts.repeats ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-bench-drift-'));
  const dbPath = join(dir, 'bench.duckdb');
  const baselinePath = join(dir, 'baseline.json');
  const results: Record<string, unknown>[] = [];
  try {
    console.log(`\ndrift: ${NUM.length} numerical + ${CAT.length} categorical features, baseline 1M rows, current ${sizes.map((s) => `${s / 1e6}M`).join(' and ')} rows, median of ${repeats}`);
    const py = existsSync(PY) && spawnSync(PY, ['-c', 'import pandas, scipy'], { encoding: 'utf8' }).status === 0;
    const refCsv = join(dir, 'baseline.csv');
    let w = await createDuckDbWarehouse({ path: dbPath });
    try {
      await makeTable(w, 'bench_baseline', 1_000_000, 0.1, 0);
      const baseline = await computeBaselineProfile(w, { relation: 'bench_baseline', label: 'bench_baseline' }, features);
      await writeFile(baselinePath, JSON.stringify(baseline));
      if (py) await w.execute(`COPY (SELECT ${[...NUM, ...CAT].join(', ')} FROM bench_baseline) TO '${refCsv}' (HEADER, DELIMITER ',')`);
      for (const n of sizes) await makeTable(w, `bench_current_${n}`, n, 0.2, 0.05);
    } finally {
      await w.close();
    }
    for (const n of sizes) {
      const table = `bench_current_${n}`;
      const ours = runChild(dbPath, table, baselinePath, repeats);
      const seconds = median(ours.seconds);
      const row: Record<string, unknown> = { rows: n, warehouseSeconds: seconds, runs: ours.seconds, warehouseCpuSeconds: median(ours.cpuSeconds), startRssMb: ours.startRssMb, peakRssMb: ours.peakRssMb, peakHeapMb: ours.peakHeapMb, drifted: ours.drifted };
      console.log(`  ${n / 1e6}M rows, warehouse mode (DuckDB): median ${fmt(seconds)} s (runs ${ours.seconds.map(fmt).join(', ')}; CPU ${fmt(median(ours.cpuSeconds))} s), peak RSS ${ours.peakRssMb} MB (${ours.startRssMb} MB after opening the database), peak V8 heap ${ours.peakHeapMb} MB`);
      // DuckDB's buffer pool keeps the table blocks it read (up to 80% of RAM by default), so the RSS above grows
      // with the table; the check itself needs only its aggregate states. With a bounded pool the blocks are read
      // again from the file (the OS page cache) on each check:
      const bounded = runChild(dbPath, table, baselinePath, repeats, BOUNDED_POOL);
      Object.assign(row, { boundedPeakRssMb: bounded.peakRssMb, boundedSeconds: median(bounded.seconds) });
      console.log(`  ${n / 1e6}M rows, same with DuckDB memory_limit=${BOUNDED_POOL}: median ${fmt(median(bounded.seconds))} s, peak RSS ${bounded.peakRssMb} MB, peak V8 heap ${bounded.peakHeapMb} MB`);
      if (py) {
        const curCsv = join(dir, 'current.csv');
        w = await createDuckDbWarehouse({ path: dbPath });
        try {
          await w.execute(`COPY (SELECT ${[...NUM, ...CAT].join(', ')} FROM ${table}) TO '${curCsv}' (HEADER, DELIMITER ',')`);
        } finally {
          await w.close();
        }
        const out = spawnSync(PY, [join(import.meta.dirname, 'drift_reference.py'), refCsv, curCsv, String(repeats)], { encoding: 'utf8', maxBuffer: 1 << 24 });
        if (out.status !== 0) console.log(`  pandas/scipy reference failed: ${out.stderr.slice(-500)}`);
        else {
          const ref = JSON.parse(out.stdout) as { load_s: number; seconds: number[]; cpu_seconds: number[]; results: Record<string, number> };
          const refMedian = median(ref.seconds);
          Object.assign(row, { referenceSeconds: refMedian, referenceRuns: ref.seconds, referenceCpuSeconds: median(ref.cpu_seconds), referenceLoadSeconds: ref.load_s, ratio: refMedian / seconds });
          console.log(`  ${n / 1e6}M rows, pandas/scipy reference: median ${fmt(refMedian)} s (runs ${ref.seconds.map(fmt).join(', ')}; CPU ${fmt(median(ref.cpu_seconds))} s; + ${ref.load_s.toFixed(1)} s CSV load, not counted) → warehouse mode is ${(refMedian / seconds).toFixed(1)}× faster`);
        }
        await rm(curCsv, { force: true });
      } else {
        console.log(`  pandas/scipy reference skipped: ${PY} with pandas and scipy is not installed (apt-get install -y python3-pandas python3-scipy)`);
      }
      results.push(row);
    }
    console.log(`  rows | warehouse s (CPU s) | peak RSS MB (with memory_limit=${BOUNDED_POOL}) | pandas/scipy s (CPU s) | ratio (CPU ratio)`);
    for (const r of results) {
      const ref = r.referenceSeconds === undefined ? '—' : `${fmt(r.referenceSeconds as number)} (${fmt(r.referenceCpuSeconds as number)})`;
      const ratio = r.ratio === undefined ? '—' : `${(r.ratio as number).toFixed(1)}× (${((r.referenceCpuSeconds as number) / (r.warehouseCpuSeconds as number)).toFixed(1)}×)`;
      console.log(`  ${Number(r.rows) / 1e6}M | ${fmt(r.warehouseSeconds as number)} (${fmt(r.warehouseCpuSeconds as number)}) | ${r.peakRssMb} (${r.boundedPeakRssMb}) | ${ref} | ${ratio}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--check');
  if (at >= 0) {
    const [dbPath, table, baselinePath, repeats, memoryLimit] = process.argv.slice(at + 1);
    console.log(JSON.stringify(await checkProcess(dbPath!, table!, baselinePath!, Number(repeats), memoryLimit)));
  } else {
    const small = process.argv.includes('--small') || process.env.BENCH_SCALE === 'small';
    await runDriftBench({ small });
  }
}
