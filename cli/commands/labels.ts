import type { Command } from 'commander';
import { checkModelName } from '../../shared/adapters/model-registry/checks.js';
import { featurePlan } from '../../shared/serving/features.js';
import { ingestLabels, readLabelsFile } from '../../shared/serving/labels.js';
import { loadServedModels, specOf } from '../../shared/serving/served-models.js';
import { integerIn } from '../options.js';
import { output, withRuntime } from '../context.js';

export function register(program: Command): void {
  const labels = program.command('labels').description('delayed labels: join observed outcomes to the serving log');
  labels
    .command('ingest')
    .description('join a file of outcomes to the predictions of a model (by request id, or by entity keys and time)')
    .requiredOption('--model <name>', 'model whose predictions the labels are for')
    .requiredOption('--file <path>', 'JSON lines: {"request_id", "instance"?, "label"} or {<join keys>, "time", "label"}')
    .option('--window <seconds>', 'entity + time: the prediction must be at most this long before the label time', integerIn(1, 366 * 86_400), 86_400)
    .action(async (opts: { model: string; file: string; window: number }, cmd: Command) => {
      checkModelName(opts.model);
      await withRuntime(async (rt) => {
        const plan = featurePlan(rt.repo, specOf(await loadServedModels(rt.config.training.modelsFile, rt.repo), opts.model));
        const rows = await readLabelsFile(opts.file, plan);
        const r = await ingestLabels(rt.warehouse, opts.model, rows, { windowSeconds: opts.window });
        output(cmd, r, () => [
          `${r.read} label rows read, ${r.labelled} predictions of ${opts.model} labelled`,
          ...(r.unmatchedLines.length ? [`${r.unmatchedLines.length} rows matched no prediction (lines ${r.unmatchedLines.slice(0, 20).join(', ')}${r.unmatchedLines.length > 20 ? ', …' : ''}): unknown request id, a failed prediction, or no prediction for those keys within --window before the time`] : []),
        ].join('\n'));
      });
    });
}
