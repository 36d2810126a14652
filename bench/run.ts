import { runBackfillBench } from './backfill.js';
import { printIngestTable, runIngestBench, type IngestCell } from './ingest.js';
import { runOnlineBench } from './online.js';
import { runPitBench } from './pit.js';
import { runPredictBench } from './predict.js';

/**
 * `npm run bench`: every benchmark with its baseline measured in the same run. Figures are medians; these machines
 * are shared and noisy, so compare ratios. BENCH_SCALE=small runs a quick, reduced version.
 */
const small = process.env.BENCH_SCALE === 'small';
const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

console.log(`ctloop benchmarks (${small ? 'small' : 'full'} scale), node ${process.version}, ${new Date().toISOString()}`);
if (want('ingest')) {
  // 1-, 100- and 1,000-row events at 1, 100 and 1,000 in flight (issue 11), and 1-row events at 2,000-10,000 in flight
  // (the bus's flow control allows it; bigger groups amortise each write). One event at a time is slow, so those
  // cells run fewer events. INGEST_CELLS=<rows>x<in flight>,... runs only the cells given (e.g. 1x1000,1x5000).
  const cells: IngestCell[] = [];
  const plan: [number, number][] = process.env.INGEST_CELLS
    ? process.env.INGEST_CELLS.split(',').map((c) => {
      const m = /^\s*(\d+)x(\d+)\s*$/.exec(c);
      if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new Error(`INGEST_CELLS: ${JSON.stringify(c)} is not <rows per event>x<in flight>, e.g. 1x1000`);
      return [Number(m[1]), Number(m[2])] as [number, number];
    })
    : [[1, 1], [1, 100], [1, 1000], [1, 2000], [1, 5000], [1, 10_000], [100, 1], [100, 100], [100, 1000], [1000, 1], [1000, 100], [1000, 1000]];
  for (const [rowsPerEvent, concurrency] of plan) {
    const rows = (small ? 20_000 : 200_000) / (concurrency === 1 ? (rowsPerEvent === 1 ? 40 : 4) : 1);
    cells.push(await runIngestBench({ events: Math.ceil(rows / rowsPerEvent), rowsPerEvent, repeats: 3, concurrency }));
  }
  printIngestTable(cells, 3);
}
if (want('load') || want('backfill')) {
  // `load` and `backfill` are the same benchmark. 16M rows (a 730 MB CSV, minutes per repetition) only at
  // BENCH_SCALE=full; BENCH_REPEATS overrides the 3 repetitions.
  const full = process.env.BENCH_SCALE === 'full';
  await runBackfillBench({
    sizes: small ? [200_000] : full ? [1_000_000, 4_000_000, 16_000_000] : [1_000_000, 4_000_000],
    repeats: Number(process.env.BENCH_REPEATS ?? 3),
    ...(full || small ? {} : { note: 'this scale stops at 4M rows; BENCH_SCALE=full adds the 16M-row file' }),
  });
}
if (want('online')) await runOnlineBench(small ? { entities: 10_000, emulatorEntities: 2_000, rowsPerEntity: 5, lookups: 500 } : { entities: 100_000, emulatorEntities: 10_000, rowsPerEntity: 20, lookups: 2000 });
if (want('pit')) await runPitBench(small ? { featureRows: 1_000_000, spineRows: 100_000, entities: 10_000, repeats: 3 } : { featureRows: 10_000_000, spineRows: 1_000_000, entities: 100_000, repeats: 3 });
if (want('predict')) await runPredictBench(small ? { routes: 1000, warmup: 300, requests: 1000, concurrency: 8 } : { routes: 10_000, warmup: 1000, requests: 5000, concurrency: 8 });
if (want('drift')) {
  const driftModule = './drift.js'; // resolved at run time: the drift benchmark lands with its issue
  const mod = await import(driftModule).catch(() => null);
  if (mod && 'runDriftBench' in mod) await (mod as { runDriftBench: (o: { small: boolean }) => Promise<unknown> }).runDriftBench({ small });
  else console.log('\ndrift: bench/drift.ts not present');
}
