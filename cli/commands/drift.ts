import { Command, Option } from 'commander';
import { registerBaseline } from '../../shared/drift/baselines.js';
import { jsonSafe } from '../../shared/drift/detect.js';
import { compareSamples } from '../../shared/drift/file-mode.js';
import { readPair } from '../../shared/drift/file-reader.js';
import { readHistory } from '../../shared/drift/history.js';
import type { DriftReport } from '../../shared/drift/report.js';
import { checkPreset } from '../../shared/drift/selection.js';
import { ValidationError } from '../../shared/errors.js';
import { parseTimestamp } from '../../shared/features/validate.js';
import { output, withRuntime } from '../context.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

function pairs(list: string[], what: string, example: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of list) {
    const i = p.indexOf('=');
    if (i <= 0 || i === p.length - 1) throw new ValidationError(`--${what} ${p} is not column=value`, { hint: `e.g. --${what} ${example}` });
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

function time(s: string, flag: string): Date {
  const d = parseTimestamp(s);
  if (!d) throw new ValidationError(`${flag} ${s} is not a timestamp`, { hint: `use ISO-8601, e.g. ${flag} 2001-01-01T00:00:00Z` });
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
  if (r.anomalies.length) lines.push('', 'anomalies:', ...r.anomalies.map((a) => `  ${a.kind.padEnd(18)} ${a.message}`));
  return lines.join('\n');
}

export function register(program: Command): void {
  const drift = program
    .command('drift')
    .description('drift and data validation: compare two files (file mode), register baselines, read report history')
    .option('--reference <file>', 'reference CSV or Parquet file (e.g. the training set)')
    .option('--current <file>', 'current CSV or Parquet file')
    .option('--method <col=name>', 'per-column method: ks, chisquare, z, jensenshannon, wasserstein, psi, kl_div, hellinger, l_infinity, jensenshannon_divergence (repeatable)', collect, [])
    .option('--threshold <col=x>', 'per-column threshold (repeatable)', collect, [])
    .option('--categorical <cols>', 'comma-separated columns to treat as categorical')
    .addOption(new Option('--preset <preset>', 'default methods and thresholds').choices(['evidently', 'vertex']).default('evidently'))
    .option('--drift-share <x>', 'share of drifted columns at which the dataset drifts', (v) => Number(v), 0.5)
    .action(async (opts: { reference?: string; current?: string; method: string[]; threshold: string[]; categorical?: string; preset: string; driftShare: number }, cmd: Command) => {
      if (!opts.reference || !opts.current) {
        throw new ValidationError('ctloop drift needs --reference and --current', { hint: 'e.g. ctloop drift --reference train.csv --current today.csv (or see `ctloop drift --help`)' });
      }
      const thresholds = Object.fromEntries(Object.entries(pairs(opts.threshold, 'threshold', 'delay=0.2')).map(([k, v]) => {
        const x = Number(v);
        if (!Number.isFinite(x)) throw new ValidationError(`--threshold ${k}=${v}: ${v} is not a number`, { hint: `e.g. --threshold ${k}=0.1` });
        return [k, x];
      }));
      const methods = pairs(opts.method, 'method', 'delay=psi');
      const categorical = opts.categorical ? opts.categorical.split(',').map((s) => s.trim()).filter(Boolean) : [];
      const { reference, current } = await readPair(opts.reference, opts.current, { categorical });
      for (const col of [...Object.keys(methods), ...Object.keys(thresholds)]) {
        if (!reference.some((c) => c.name === col)) throw new ValidationError(`--method/--threshold name column ${col}, which ${opts.reference} does not have`, { hint: `columns: ${reference.map((c) => c.name).join(', ')}` });
      }
      const report = jsonSafe(compareSamples(reference, current, {
        preset: checkPreset(opts.preset), methods, thresholds, driftShare: opts.driftShare, refLabel: opts.reference, curLabel: opts.current,
      }));
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
    .command('history')
    .description('stored drift reports, newest first')
    .option('--view <view>', 'only this view')
    .option('--limit <n>', 'number of reports', (v) => Number.parseInt(v, 10), 20)
    .action(async (opts: { view?: string; limit: number }, cmd: Command) => {
      await withRuntime(async (rt) => {
        const rows = await readHistory(rt.warehouse, { ...(opts.view ? { view: opts.view } : {}), limit: opts.limit });
        output(cmd, rows, () => rows.length === 0 ? 'no drift reports yet' : rows.map((r) =>
          `${String(r.report_id)}  ${String(r.view)}  ${new Date(String(r.window_start)).toISOString()} → ${new Date(String(r.window_end)).toISOString()}  baseline ${String(r.baseline_id)}  ${r.dataset_drift ? 'DRIFT' : 'ok'} (${Number(r.drifted_features)} drifted, ${Number(r.anomalies)} anomalies)`).join('\n'));
     }, { readOnly: true });
    });
}
