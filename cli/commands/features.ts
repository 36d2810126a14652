import { Command, Option } from 'commander';
import { ValidationError } from '../../shared/errors.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { getHistoricalFeatures } from '../../shared/features/historical.js';
import { loadFeatureFile } from '../../shared/features/load-file.js';
import { getOnlineFeatures } from '../../shared/features/online.js';
import { parseTimestamp } from '../../shared/features/validate.js';
import { endProgress, output, progress, withRuntime } from '../context.js';

function parseKeys(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new ValidationError(`--key ${p} is not name=value`, { hint: 'e.g. --key origin=SFO --key dest=LAX' });
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  const features = program.command('features').description('feature store: tables, ingestion, training sets, online values');

  features
    .command('apply')
    .description('create or migrate the warehouse tables of the feature definitions (additive changes only)')
    .option('--dry-run', 'show the plan without changing anything')
    .action(async (opts: { dryRun?: boolean }, cmd: Command) => {
      await withRuntime(async (rt) => {
        const res = await applyFeatureRepo(rt.warehouse, rt.repo, { dryRun: Boolean(opts.dryRun) });
        output(cmd, res, () =>
          res.changes.map((c) => `${c.action.padEnd(11)} ${c.table}${'columns' in c && c.action !== 'create' ? ` (+${c.columns.map((x) => x.name).join(', +')})` : ''}`).join('\n') +
          (res.applied ? '' : '\n(dry run: nothing changed)'));
      });
    });

  features
    .command('ingest')
    .description('load a CSV, JSONL or Parquet file (local or gs://) into a feature view, with validation and dedup')
    .requiredOption('--view <view>', 'feature view name')
    .requiredOption('--file <file>', 'file path or gs:// URI')
    .addOption(new Option('--file-format <format>', 'file format (default: from the extension)').choices(['csv', 'jsonl', 'parquet']))
    .option('--batch-size <n>', 'rows per batched write', (v) => Number.parseInt(v, 10), 50_000)
    .action(async (opts: { view: string; file: string; fileFormat?: 'csv' | 'jsonl' | 'parquet'; batchSize: number }, cmd: Command) => {
      const say = progress(cmd);
      const started = Date.now();
      await withRuntime(async (rt) => {
        const res = await loadFeatureFile({ ...rt, scratchBucket: rt.config.artifactBucket, onProgress: (r) => say(`${opts.view}: ${r.received.toLocaleString('en-US')} rows read, ${r.accepted.toLocaleString('en-US')} accepted, ${r.quarantined} quarantined`) }, {
          view: opts.view, uri: opts.file, batchSize: opts.batchSize, ...(opts.fileFormat ? { format: opts.fileFormat } : {}),
        });
        endProgress();
        const seconds = (Date.now() - started) / 1000;
        output(cmd, { ...res, seconds }, () => [
          `view ${res.view}: ${res.received} rows read, ${res.accepted} accepted (${res.inserted ?? '?'} new), ${res.quarantined} quarantined in ${seconds.toFixed(1)} s`,
          ...res.sampleReasons.map((r) => `  quarantined ${r}`),
        ].join('\n'));
      });
    });

  features
    .command('historical')
    .description('point-in-time correct training set: spine rows joined with feature values known at their timestamp')
    .requiredOption('--spine <file>', 'CSV or Parquet with entity keys and a timestamp column (other columns are kept)')
    .option('--timestamp-column <name>', 'spine timestamp column', 'event_timestamp')
    .requiredOption('--features <list>', 'comma-separated view:feature list, or service:<name>')
    .requiredOption('--out <file>', 'output .parquet or .csv (local or gs://)')
    .option('--full-feature-names', 'name output columns view__feature')
    .action(async (opts: { spine: string; timestampColumn: string; features: string; out: string; fullFeatureNames?: boolean }, cmd: Command) => {
      const say = progress(cmd);
      const started = Date.now();
      await withRuntime(async (rt) => {
        const res = await getHistoricalFeatures({ ...rt, scratchBucket: rt.config.artifactBucket, onProgress: say }, {
          spine: opts.spine, timestampColumn: opts.timestampColumn, features: opts.features.split(',').map((s) => s.trim()).filter(Boolean),
          out: opts.out, fullFeatureNames: Boolean(opts.fullFeatureNames),
        });
        endProgress();
        const seconds = (Date.now() - started) / 1000;
        output(cmd, { out: res.out, rows: res.rows, columns: res.columns, seconds }, () => `wrote ${res.rows} rows × ${res.columns.length} columns to ${res.out} in ${seconds.toFixed(1)} s\ncolumns: ${res.columns.join(', ')}`);
     }, { readOnly: true });
    });

  features
    .command('online')
    .description('latest feature values for one entity, with ttl applied and a status per value')
    .requiredOption('--view <view>', 'feature view name')
    .requiredOption('--key <name=value>', 'join key value (repeat for composite keys)', collect, [])
    .option('--features <list>', 'comma-separated features of the view (default: all)')
    .option('--as-of <time>', 'reference time for the ttl check, ISO-8601 (default: now); a latest value stamped after it is NOT_FOUND')
    .action(async (opts: { view: string; key: string[]; features?: string; asOf?: string }, cmd: Command) => {
      const asOf = opts.asOf === undefined ? undefined : parseTimestamp(opts.asOf);
      if (asOf === null) throw new ValidationError(`--as-of ${opts.asOf} is not an ISO-8601 time`, { hint: 'e.g. --as-of 2001-06-30T12:00:00Z' });
      await withRuntime(async (rt) => {
        const res = await getOnlineFeatures(rt, {
          view: opts.view, entities: [parseKeys(opts.key)],
          ...(opts.features ? { features: opts.features.split(',').map((s) => s.trim()) } : {}),
          ...(asOf ? { asOf } : {}),
        });
        output(cmd, res, () => res.metadata.feature_names.map((f, i) => {
          const r = res.results[i]!;
          return `${f.padEnd(24)} ${String(r.values[0]).padEnd(16)} ${r.statuses[0]!.padEnd(16)} ${r.event_timestamps[0] ?? ''}`;
        }).join('\n'));
     }, { readOnly: true });
    });
}
