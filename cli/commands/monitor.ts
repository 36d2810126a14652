import type { Command } from 'commander';
import { checkModelName } from '../../shared/adapters/model-registry/checks.js';
import { liveMetrics, type LiveMetrics } from '../../shared/serving/monitor.js';
import { instant } from '../options.js';
import { output, withRuntime } from '../context.js';

const f = (x: number | null, d = 4) => (x === null ? '—' : x.toFixed(d));

function table(model: string, rows: LiveMetrics[]): string {
  if (rows.length === 0) return `no predictions of ${model} in the serving log yet (serve it: ctloop serve, ctloop predict)`;
  return [
    `${'version'.padEnd(8)} ${'day'.padEnd(10)} ${'predictions'.padStart(11)} ${'labelled'.padStart(8)} ${'pos.rate'.padStart(8)} ${'mean p'.padStart(7)} ${'auc'.padStart(7)} ${'log_loss'.padStart(8)}`,
    ...rows.map((r) => `${r.version.padEnd(8)} ${r.day.padEnd(10)} ${String(r.predictions).padStart(11)} ${String(r.labelled).padStart(8)} ${f(r.positiveRate, 3).padStart(8)} ${f(r.meanPrediction, 3).padStart(7)} ${f(r.auc).padStart(7)} ${f(r.logLoss).padStart(8)}`),
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('monitor')
    .description('live AUC and log loss per model version and day, from the serving log and delayed labels')
    .requiredOption('--model <name>', 'model to report')
    .option('--since <time>', 'only predictions made at or after this ISO-8601 time', instant)
    .action(async (opts: { model: string; since?: Date }, cmd: Command) => {
      checkModelName(opts.model);
      await withRuntime(async (rt) => {
        const rows = await liveMetrics(rt.warehouse, opts.model, opts.since ? { since: opts.since } : {});
        output(cmd, { model: opts.model, metrics: rows }, () => table(opts.model, rows));
      }, { readOnly: true });
    });
}
