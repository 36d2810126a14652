import type { Command } from 'commander';
import { registryOf } from '../../shared/adapters/model-registry/runtime.js';
import { checkModelName } from '../../shared/adapters/model-registry/checks.js';
import type { EvaluationReport } from '../../shared/evaluation/evaluate.js';
import { NotFoundError, UsageError } from '../../shared/errors.js';
import { parseModelRef, type ModelVersion } from '../../shared/ports/model-registry.js';
import { output, withRuntime } from '../context.js';

const num = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(4));

function line(v: ModelVersion): string {
  const m = v.metrics;
  return `${`${v.model}@${v.version}`.padEnd(24)} ${(v.aliases.join(',') || '-').padEnd(20)} ${(v.blessed ? 'blessed' : 'refused').padEnd(8)} auc ${num(m.auc)}  log_loss ${num(m.log_loss)}  run ${v.runId}  ${v.createdAt}`;
}

function renderShow(v: ModelVersion, report: EvaluationReport | null): string {
  const out = [
    `${v.model}@${v.version}  ${v.blessed ? 'BLESSED' : 'REFUSED'}  aliases: ${v.aliases.join(', ') || 'none'}`,
    `created     ${v.createdAt}`,
    `artifacts   ${v.artifactUri}`,
    `metrics     ${Object.entries(v.metrics).map(([k, x]) => `${k} ${Number.isInteger(x) ? x : x.toFixed(4)}`).join(', ')}`,
    `evaluation  ${v.evaluationUri ?? '—'}`,
    `baseline    ${v.baselineProfileUri ?? '—'}`,
    `lineage     run ${v.lineage.runId}${v.lineage.jobId ? ` (job ${v.lineage.jobId})` : ''} ← ${v.lineage.trigger ? `${v.lineage.trigger.reason}${v.lineage.trigger.driftReportId ? ` (drift report ${v.lineage.trigger.driftReportId})` : ''}` : 'unknown trigger'}`,
    ...Object.entries(v.lineage.dataUris).map(([k, u]) => `  data ${k.padEnd(11)} ${u}`),
  ];
  if (report) {
    out.push('', `checks (against ${report.championVersion ? `champion v${report.championVersion}` : 'no champion: absolute checks only'}):`);
    for (const c of report.checks) out.push(`  ${c.status.toUpperCase().padEnd(7)} ${c.check.padEnd(22)} ${(c.slice ?? 'overall').padEnd(16)} ${c.detail}`);
  }
  return out.join('\n');
}

export function register(program: Command): void {
  const models = program
    .command('models')
    .description('model registry: versions with their metrics, verdict, aliases and lineage');

  models
    .command('list')
    .description('registered model versions, oldest first')
    .option('--model <name>', 'only this model')
    .action(async (opts: { model?: string }, cmd: Command) => {
      if (opts.model !== undefined) checkModelName(opts.model);
      await withRuntime(async (rt) => {
        const versions = await (await registryOf(rt)).listVersions(opts.model);
        output(cmd, versions, () => (versions.length === 0 ? `no model versions registered yet${opts.model ? ` for ${opts.model}` : ''}` : versions.map(line).join('\n')));
      }, { readOnly: true });
    });

  models
    .command('show')
    .description('one version with its lineage and every gate check: M@3, M@champion, M@challenger (M alone = M@champion)')
    .argument('<ref>', 'model@version or model@alias')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const { model, version } = parseModelRef(ref);
      if (!model || !version) throw new UsageError(`"${ref}" is not model@version or model@alias`, { hint: 'e.g. ctloop models show flight_delay@champion or flight_delay@3' });
      checkModelName(model);
      await withRuntime(async (rt) => {
        const registry = await registryOf(rt);
        const v = await registry.getVersion(model, version);
        if (!v) {
          const known = await registry.listVersions(model);
          throw new NotFoundError(`model ${model} has no version or alias "${version}"`, {
            hint: known.length ? `versions: ${known.map((k) => `${k.version}${k.aliases.length ? ` (${k.aliases.join(', ')})` : ''}`).join(', ')}` : `no versions of ${model} are registered: run \`ctloop models list\``,
          });
        }
        const report = v.evaluationUri && (await rt.objectStore.exists(v.evaluationUri))
          ? JSON.parse((await rt.objectStore.get(v.evaluationUri)).toString('utf8')) as EvaluationReport : null;
        output(cmd, { ...v, evaluation: report && { blessed: report.blessed, championVersion: report.championVersion, checks: report.checks, overall: report.overall } },
          () => renderShow(v, report));
      }, { readOnly: true });
    });
}
