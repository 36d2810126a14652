import { Command, Option } from 'commander';
import { registerBaseline } from '../../shared/drift/baselines.js';
import { jsonSafe } from '../../shared/drift/detect.js';
import { compareSamples } from '../../shared/drift/file-mode.js';
import { readPair } from '../../shared/drift/file-reader.js';
import { readHistory } from '../../shared/drift/history.js';
import { defaultCardinality } from '../../shared/drift/cardinality.js';
import { methodNames, type MethodName } from '../../shared/drift/methods.js';
import { parseOption, ranges } from '../../shared/drift/options.js';
import type { DriftReport } from '../../shared/drift/report.js';
import { checkPreset, checkSelection } from '../../shared/drift/selection.js';
import { UsageError, ValidationError } from '../../shared/errors.js';
import { parseTimestamp } from '../../shared/features/validate.js';
import { output, withRuntime } from '../context.js';
import { instant, integerIn } from '../options.js';
import type { CheckOptions } from './drift-check.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

function pairs(list: string[], what: string, example: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of list) {
    const i = p.indexOf('=');
    if (i <= 0 || i === p.length - 1) throw new UsageError(`--${what} ${p} is not column=value`, { hint: `e.g. --${what} ${example}` });
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

function time(s: string, flag: string): Date {
  const d = parseTimestamp(s);
  if (!d) throw new UsageError(`${flag} ${s} is not a timestamp`, { hint: `use ISO-8601, e.g. ${flag} 2001-01-01T00:00:00Z` });
  return d;
}

const fmt = (x: number | null) => (x === null ? '—' : Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(3));

function renderReport(r: DriftReport): string {
  const lines = [
    `dataset drift: ${r.dataset_drift ? 'YES' : 'no'} (${(r.share_drifted * 100).toFixed(1)}% of ${r.features.length} features drifted; threshold ${r.drift_share * 100}%)`,
    '',
    `${'feature'.padEnd(24)} ${'kind'.padEnd(12)} ${'method'.padEnd(25)} ${'statistic'.padStart(11)} ${'p-value'.padStart(11)} ${'threshold'.padStart(9)}  drift`,
    ...r.features.map((f) => `${f.name.padEnd(24)} ${f.kind.padEnd(12)} ${f.method.padEnd(25)} ${fmt(f.statistic).padStart(11)} ${fmt(f.p_value).padStart(11)} ${String(f.threshold).padStart(9)}  ${f.drifted ? 'DRIFT' : '-'}`),
  ];
  if (r.skipped.length) lines.push('', 'not compared:', ...r.skipped.map((f) => `  ${f.name.padEnd(22)} ${f.reason.padEnd(20)} ${f.message}`));
  if (r.anomalies.length) lines.push('', 'anomalies:', ...r.anomalies.map((a) => `  ${a.kind.padEnd(18)} ${a.message}`));
  return lines.join('\n');
}

interface FileModeOptions {
  reference?: string;
  current?: string;
  method: string[];
  threshold: string[];
  categorical?: string;
  preset: string;
  driftShare: string;
  cardinalityShare: string;
  cardinalityFloor: string;
}

export function register(program: Command): void {
  const drift = program
    .command('drift')
    .description('drift and data validation: compare two files (file mode), register baselines, check a window now, read report history')
    .option('--reference <file>', 'reference CSV or Parquet file (e.g. the training set)')
    .option('--current <file>', 'current CSV or Parquet file')
    .option('--method <col=name>', 'per-column method: ks, chisquare, z, jensenshannon, wasserstein, psi, kl_div, hellinger, l_infinity, jensenshannon_divergence (repeatable)', collect, [])
    .option('--threshold <col=x>', 'per-column threshold (repeatable): a p-value in (0, 1) for ks, chisquare and z; a distance > 0 otherwise (at most 1 for hellinger, l_infinity and jensenshannon_divergence, 0.8326 for jensenshannon)', collect, [])
    .option('--categorical <cols>', 'comma-separated columns to treat as categorical')
    .addOption(new Option('--preset <preset>', 'default methods and thresholds').choices(['evidently', 'vertex']).default('evidently'))
    .option('--drift-share <x>', 'share of drifted columns at which the dataset drifts, in (0, 1]', '0.5')
    .option('--cardinality-share <x>', 'skip a categorical column whose distinct values are more than this share of its non-null reference values, in (0, 1]; 1 compares every column', String(defaultCardinality.maxDistinctShare))
    .option('--cardinality-floor <n>', 'always compare categorical columns with at most n distinct reference values (integer ≥ 0)', String(defaultCardinality.floor))
    .action(async (opts: FileModeOptions, cmd: Command) => {
      if (!opts.reference || !opts.current) {
        throw new UsageError('ctloop drift needs --reference and --current', { hint: 'e.g. ctloop drift --reference train.csv --current today.csv (or see `ctloop drift --help`)' });
      }
      // Every numeric option is checked before any file is read (ranges in shared/drift/options.ts).
      const thresholds = Object.fromEntries(Object.entries(pairs(opts.threshold, 'threshold', 'delay=0.2'))
        .map(([k, v]) => [k, parseOption(v, { min: 0, minOpen: true }, `--threshold ${k}`, 'a p-value in (0, 1) or a positive distance')]));
      const methods = pairs(opts.method, 'method', 'delay=psi');
      for (const [col, m] of Object.entries(methods)) {
        if (!methodNames.includes(m as MethodName)) throw new UsageError(`--method ${col}=${m}: unknown drift method "${m}"`, { hint: `use one of: ${methodNames.join(', ')}` });
      }
      const selection = {
        preset: checkPreset(opts.preset), methods, thresholds, surface: 'cli' as const,
        driftShare: parseOption(opts.driftShare, ranges.driftShare, '--drift-share'),
        cardinality: {
          maxDistinctShare: parseOption(opts.cardinalityShare, ranges.cardinalityShare, '--cardinality-share'),
          floor: parseOption(opts.cardinalityFloor, ranges.cardinalityFloor, '--cardinality-floor'),
        },
      };
      checkSelection(selection);
      const categorical = opts.categorical ? opts.categorical.split(',').map((s) => s.trim()).filter(Boolean) : [];
      const { reference, current } = await readPair(opts.reference, opts.current, { categorical });
      for (const col of [...Object.keys(methods), ...Object.keys(thresholds)]) {
        if (!reference.some((c) => c.name === col)) throw new UsageError(`--method/--threshold name column ${col}, which ${opts.reference} does not have`, { hint: `columns: ${reference.map((c) => c.name).join(', ')}` });
      }
      const report = jsonSafe(compareSamples(reference, current, { ...selection, refLabel: opts.reference, curLabel: opts.current }));
      output(cmd, { ...report, anomalies: report.anomalies.map(({ message: _m, ...a }) => a) }, () => renderReport(report));
    });

  drift
    .command('baseline')
    .description('profile a window of a feature view in the warehouse and store it as the next version of a named baseline')
    .requiredOption('--view <view>', 'feature view')
    .requiredOption('--from <time>', 'window start (inclusive), ISO-8601')
    .requiredOption('--to <time>', 'window end (exclusive), ISO-8601')
    .option('--name <name>', 'baseline name (default: the view name)')
    .option('--model <model>', 'model this baseline belongs to')
    .action(async (opts: { view: string; from: string; to: string; name?: string; model?: string }, cmd: Command) => {
      await withRuntime(async (rt) => {
        const b = await registerBaseline({ warehouse: rt.warehouse, objectStore: rt.objectStore, bucket: rt.config.artifactBucket }, {
          view: rt.repo.view(opts.view), from: time(opts.from, '--from'), to: time(opts.to, '--to'),
          ...(opts.name ? { name: opts.name } : {}), ...(opts.model ? { model: opts.model } : {}),
        });
        output(cmd, { id: b.id, version: b.version, uri: b.uri, view: b.view, window: b.window, rows: b.profile.rows, features: b.profile.features.map((f) => ({ name: f.name, kind: f.kind, bins: f.bins?.type ?? null })) },
          () => `baseline ${b.id} (${b.profile.rows} rows of ${b.view}, ${b.window.start} → ${b.window.end})\nstored at ${b.uri}`);
      });
    });

  drift
    .command('check')
    .description('check one window of a view now: publish a drift check request for it (what the scheduler sends); --wait prints the report and the decision')
    .requiredOption('--view <view>', 'feature view')
    .requiredOption('--from <time>', 'window start (inclusive), ISO-8601', instant)
    .requiredOption('--to <time>', 'window end (exclusive), ISO-8601', instant)
    .option('--model <model>', 'model the check is for (default: the view name)')
    .option('--baseline <id>', 'baseline to compare with, e.g. flights@v2 (default: the latest of the view)')
    .addOption(new Option('--preset <preset>', 'methods and thresholds').choices(['evidently', 'vertex']))
    .option('--wait', 'wait for the report and print it with the decision (embedded mode always handles the check in this process)')
    .option('--timeout <seconds>', 'with --wait outside embedded mode: give up after this many seconds', integerIn(1, 86_400), 600)
    .action(async (opts: CheckOptions, cmd: Command) => {
      await (await import('./drift-check.js')).runDriftCheck(opts, cmd, renderReport);
    });

  drift
    .command('history')
    .description('stored drift reports, newest first')
    .option('--view <view>', 'only this view')
    .option('--limit <n>', 'number of reports (integer ≥ 1)', '20')
    .action(async (opts: { view?: string; limit: string }, cmd: Command) => {
      const limit = parseOption(opts.limit, ranges.historyLimit, '--limit');
      await withRuntime(async (rt) => {
        const rows = await readHistory(rt.warehouse, { ...(opts.view ? { view: opts.view } : {}), limit });
        output(cmd, rows, () => rows.length === 0 ? 'no drift reports yet' : rows.map((r) =>
          `${String(r.report_id)}  ${String(r.view)}  ${new Date(String(r.window_start)).toISOString()} → ${new Date(String(r.window_end)).toISOString()}  baseline ${String(r.baseline_id)}  ${r.dataset_drift ? 'DRIFT' : 'ok'} (${Number(r.drifted_features)} drifted, ${Number(r.anomalies)} anomalies)`).join('\n'));
     }, { readOnly: true });
    });
}
