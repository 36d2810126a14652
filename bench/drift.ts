import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDuckDbWarehouse } from '../shared/adapters/warehouse/duckdb/index.js';
import { validate } from '../shared/drift/anomalies.js';
import { computeBaselineProfile } from '../shared/drift/baseline-profile.js';
import { compareProfiles } from '../shared/drift/compare.js';
import { run, windowProfileSql, type FeatureSpec } from '../shared/drift/profile-sql.js';
import type { Warehouse } from '../shared/ports/warehouse.js';

/**
 * Drift benchmark: a current window of N rows × 10 features (6 numerical, 4 categorical) checked against a stored
 * baseline (1M rows) in warehouse mode on DuckDB — the one-scan profile plus the comparison in Node — at 1M and
 * 10M rows, with the Node process's peak RSS sampled during each run; and the same tests (Evidently's choice for
 * n_ref > 1000: normalised Wasserstein / Jensen-Shannon) in pandas/scipy on the same rows, in the same run.
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

async function measure<T>(fn: () => Promise<T>): Promise<{ seconds: number; peakRssMb: number; value: T }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
  const t = performance.now();
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { seconds: (performance.now() - t) / 1000, peakRssMb: peak / 2 ** 20, value };
  } finally {
    clearInterval(timer);
  }
}

export async function runDriftBench(opts: { small?: boolean; repeats?: number; sizes?: number[] } = {}): Promise<unknown> {
  const sizes = opts.sizes ?? (opts.small ? [1_000_000] : [1_000_000, 10_000_000]);
  const repeats = opts.repeats ?? 3;
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-bench-drift-'));
  const w = await createDuckDbWarehouse({ path: join(dir, 'bench.duckdb') });
  const results: Record<string, unknown>[] = [];
  try {
    console.log(`\ndrift: ${NUM.length} numerical + ${CAT.length} categorical features, baseline 1M rows, current ${sizes.map((s) => `${s / 1e6}M`).join(' and ')} rows, ${repeats} repeats`);
    await makeTable(w, 'bench_baseline', 1_000_000, 0.1, 0);
    const baseline = await computeBaselineProfile(w, { relation: 'bench_baseline', label: 'bench_baseline' }, features);
    const specs = baseline.features.map((f) => ({ name: f.name, type: f.type, kind: f.kind, bins: f.bins }));
    const py = existsSync(PY) && spawnSync(PY, ['-c', 'import pandas, scipy'], { encoding: 'utf8' }).status === 0;
    const refCsv = join(dir, 'baseline.csv');
    if (py) await w.execute(`COPY (SELECT ${[...NUM, ...CAT].join(', ')} FROM bench_baseline) TO '${refCsv}' (HEADER, DELIMITER ',')`);
    for (const n of sizes) {
      await makeTable(w, 'bench_current', n, 0.2, 0.05);
      const runs = [];
      for (let i = 0; i < repeats; i++) {
        runs.push(await measure(async () => {
          const current = await run(w, windowProfileSql(w.dialect, { relation: 'bench_current', label: 'bench_current' }, specs));
          return compareProfiles(baseline, current, validate(baseline, current, null));
        }));
      }
      const ours = { seconds: median(runs.map((r) => r.seconds)), peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)) };
      const row: Record<string, unknown> = { rows: n, warehouseSeconds: ours.seconds, peakRssMb: Math.round(ours.peakRssMb), drifted: runs[0]!.value.features.filter((f) => f.drifted).length };
      console.log(`  ${(n / 1e6).toFixed(0)}M rows, warehouse mode (DuckDB): median ${ours.seconds.toFixed(3)} s, peak RSS ${row.peakRssMb} MB`);
      if (py) {
        const curCsv = join(dir, 'current.csv');
        await w.execute(`COPY (SELECT ${[...NUM, ...CAT].join(', ')} FROM bench_current) TO '${curCsv}' (HEADER, DELIMITER ',')`);
        const out = spawnSync(PY, [join(import.meta.dirname, 'drift_reference.py'), refCsv, curCsv, String(repeats)], { encoding: 'utf8', maxBuffer: 1 << 24 });
        if (out.status !== 0) console.log(`  pandas/scipy reference failed: ${out.stderr.slice(-500)}`);
        else {
          const ref = JSON.parse(out.stdout) as { load_s: number; seconds: number[]; results: Record<string, number> };
          const refMedian = median(ref.seconds);
          Object.assign(row, { referenceSeconds: refMedian, referenceLoadSeconds: ref.load_s, ratio: refMedian / ours.seconds });
          console.log(`  ${(n / 1e6).toFixed(0)}M rows, pandas/scipy reference: median ${refMedian.toFixed(3)} s (+ ${ref.load_s.toFixed(1)} s CSV load, not counted) → warehouse mode is ${(refMedian / ours.seconds).toFixed(1)}× faster`);
        }
        await rm(curCsv, { force: true });
      } else {
        console.log(`  pandas/scipy reference skipped: ${PY} with pandas and scipy is not installed (apt-get install -y python3-pandas python3-scipy)`);
      }
      results.push(row);
    }
  } finally {
    await w.close();
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const small = process.argv.includes('--small') || process.env.BENCH_SCALE === 'small';
  await runDriftBench({ small });
}
