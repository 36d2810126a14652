import { Command, Option } from 'commander';
import { UsageError } from '../../shared/errors.js';
import type { FeatureView } from '../../shared/features/definitions.js';
import type { QuarantinedRow } from '../../shared/features/quarantine.js';
import { instant, integerIn } from '../options.js';

// Each action imports what it needs when it runs, so help and usage errors load no warehouse or cloud client.
const context = () => import('../context.js');

/** `MAX_QUARANTINE_LIMIT` of shared/features/quarantine.ts (not imported here: see above). */
const QUARANTINE_LIMIT = 10_000;

/**
 * `--key name=value` pairs for one entity of `view`: each join key exactly once, with a value, and nothing else.
 * A wrong key is a usage error: looking it up would only ever answer NOT_FOUND.
 */
export function entityKeys(view: FeatureView, pairs: string[]): Record<string, string> {
  const keys = view.entity.joinKeys.map((k) => k.name);
  const example = keys.map((k) => `--key ${k}=…`).join(' ');
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--key ${p} is not name=value`, { hint: `view ${view.name} is looked up by ${example}` });
    const name = p.slice(0, i);
    const value = p.slice(i + 1);
    if (!keys.includes(name)) throw new UsageError(`--key ${name}: view ${view.name} has no join key "${name}"`, { hint: `its join keys: ${keys.join(', ')} (${example})` });
    if (name in out) throw new UsageError(`--key ${name} is given twice (${out[name]} and ${value})`, { hint: `give each join key once: ${example}` });
    if (value.trim() === '') throw new UsageError(`--key ${name} has an empty value`, { hint: `e.g. ${example}` });
    out[name] = value;
  }
  const missing = keys.filter((k) => !(k in out));
  if (missing.length > 0) throw new UsageError(`missing --key for ${missing.join(', ')} of view ${view.name}`, { hint: `view ${view.name} is looked up by ${example}` });
  return out;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  const features = program.command('features').description('feature store: tables, ingestion, training sets, online values, quarantined rows');

  features
    .command('apply')
    .description('create or migrate the warehouse tables of the feature definitions (additive changes only)')
    .option('--dry-run', 'show the plan without changing anything')
    .action(async (opts: { dryRun?: boolean }, cmd: Command) => {
      const [{ output, withRuntime }, { applyFeatureRepo }] = await Promise.all([context(), import('../../shared/features/apply.js')]);
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
    .option('--batch-size <n>', 'rows per batched write (1 to 1000000)', integerIn(1, 1_000_000), 50_000)
    .action(async (opts: { view: string; file: string; fileFormat?: 'csv' | 'jsonl' | 'parquet'; batchSize: number }, cmd: Command) => {
      const [{ endProgress, output, progress, withRuntime }, { loadFeatureFile }] = await Promise.all([context(), import('../../shared/features/load-file.js')]);
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
      const [{ endProgress, output, progress, withRuntime }, { getHistoricalFeatures }] = await Promise.all([context(), import('../../shared/features/historical.js')]);
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
    .description('latest feature values for one entity from the online store, with ttl applied and a status per value')
    .requiredOption('--view <view>', 'feature view name')
    .requiredOption('--key <name=value>', 'join key value (repeat for composite keys)', collect)
    .option('--features <list>', 'comma-separated features of the view (default: all)')
    .option('--as-of <time>', 'reference time for the ttl check, ISO-8601 (default: now); a latest value stamped after it is NOT_FOUND', instant)
    .action(async (opts: { view: string; key: string[]; features?: string; asOf?: Date }, cmd: Command) => {
      const [{ output, withRuntime }, { getOnlineFeatures }] = await Promise.all([context(), import('../../shared/features/online.js')]);
      await withRuntime(async (rt) => {
        const entity = entityKeys(rt.repo.view(opts.view), opts.key);
        const res = await getOnlineFeatures(rt, {
          view: opts.view, entities: [entity],
          ...(opts.features ? { features: opts.features.split(',').map((s) => s.trim()) } : {}),
          ...(opts.asOf ? { asOf: opts.asOf } : {}),
        });
        output(cmd, res, () => res.metadata.feature_names.map((f, i) => {
          const r = res.results[i]!;
          return `${f.padEnd(24)} ${String(r.values[0]).padEnd(16)} ${r.statuses[0]!.padEnd(16)} ${r.event_timestamps[0] ?? ''}`;
        }).join('\n'));
     }, { readOnly: true });
    });

  features
    .command('materialize')
    .description('(re)build the online store of a view from its offline table: newest row per entity (idempotent, resumable by rerunning)')
    .requiredOption('--view <view>', 'feature view name')
    .option('--from <time>', 'only offline rows with event time at or after this, ISO-8601', instant)
    .option('--to <time>', 'only offline rows with event time before this, ISO-8601', instant)
    .action(async (opts: { view: string; from?: Date; to?: Date }, cmd: Command) => {
      const [{ endProgress, output, progress, withRuntime }, { materialize }] = await Promise.all([context(), import('../../shared/features/materialize.js')]);
      const say = progress(cmd);
      const started = Date.now();
      await withRuntime(async (rt) => {
        rt.repo.view(opts.view); // an unknown view fails before anything runs
        const res = await materialize({ ...rt, onProgress: (r) => say(`${r.view}: ${r.entities.toLocaleString('en-US')} entities, ${r.written.toLocaleString('en-US')} written`) }, {
          view: opts.view, ...(opts.from ? { from: opts.from } : {}), ...(opts.to ? { to: opts.to } : {}),
        });
        endProgress();
        const seconds = (Date.now() - started) / 1000;
        output(cmd, { ...res, store: rt.online.kind, seconds }, () =>
          `view ${res.view}: ${res.entities} entities read from the offline table, ${res.written} online rows written (${res.entities - res.written} already current) in the ${rt.online.kind} online store in ${seconds.toFixed(1)} s`);
      });
    });

  features
    .command('quarantine')
    .description('rows that failed validation, newest first: where they came from, why, and the row as it arrived')
    .option('--view <view>', 'only this feature view')
    .option('--since <time>', 'only rows quarantined at or after this time, ISO-8601', instant)
    .option('--limit <n>', `at most this many rows (1 to ${QUARANTINE_LIMIT})`, integerIn(1, QUARANTINE_LIMIT), 50)
    .action(async (opts: { view?: string; since?: Date; limit: number }, cmd: Command) => {
      const [{ output, withRuntime }, { readQuarantine }] = await Promise.all([context(), import('../../shared/features/quarantine.js')]);
      await withRuntime(async (rt) => {
        const res = await readQuarantine(rt.warehouse, { limit: opts.limit, ...(opts.view ? { view: opts.view } : {}), ...(opts.since ? { since: opts.since } : {}) });
        // A view that is neither defined nor in the quarantine is most likely a typo.
        if (opts.view && res.total === 0 && !rt.repo.views.some((v) => v.name === opts.view)) rt.repo.view(opts.view); // throws NotFoundError naming the views
        output(cmd, res, () => renderQuarantine(res.rows, res.total));
      }, { readOnly: true });
    });
}

function renderQuarantine(rows: QuarantinedRow[], total: number): string {
  if (total === 0) return 'no quarantined rows';
  const lines = rows.flatMap((r) => [
    `${r.quarantinedAt}  ${r.view}  ${r.source} ${r.sourceId}${r.version ? ` (version ${r.version})` : ''}${r.line !== null ? ` line ${r.line}` : r.row !== null ? ` row ${r.row}` : ''}`,
    ...r.reasons.map((x) => `  reason: ${x}`),
    `  raw:    ${typeof r.raw === 'string' ? r.raw : JSON.stringify(r.raw)}`,
  ]);
  if (total > rows.length) lines.push(`(${rows.length} of ${total} rows shown, newest first; use --limit, --since or --view for others)`);
  return lines.join('\n');
}
