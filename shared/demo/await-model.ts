import { registryOf } from '../adapters/model-registry/runtime.js';
import { BackendError } from '../errors.js';
import type { DemoContext, ModelOutcome } from './stage.js';

/**
 * Wait for a training run to end in the registry: `model.evaluated` for the run (blessed or refused, with the gate's
 * failed checks), or a failed `training.completed` (raised with the trainer's reason). Returns the outcome and when
 * the evaluation arrived (wall clock).
 */
export async function awaitModel(ctx: DemoContext, model: string, runId: string, trigger: string, requestedAt: Date): Promise<{ outcome: ModelOutcome; at: number }> {
  const end = await ctx.watch.waitFor(
    (s) => (s.name === 'modelEvaluated' && (s.event.data as { runId?: string }).runId === runId)
      || (s.name === 'trainingCompleted' && (s.event.data as { runId?: string; state: string }).runId === runId && (s.event.data as { state: string }).state !== 'SUCCEEDED'),
    ctx.opts.trainingTimeoutMs, `the evaluation of training run ${runId}`,
  );
  if (end.name === 'trainingCompleted') {
    const d = end.event.data as { state: string; error?: string; logsTail?: string };
    throw new BackendError(`training run ${runId} ended ${d.state}: ${d.error ?? 'no reason given'}${d.logsTail ? `\n${d.logsTail}` : ''}`, { hint: `npx ctloop runs show ${runId}` });
  }
  const d = end.event.data as { candidateVersion: string; blessed: boolean; metrics: Record<string, number>; failedChecks: ModelOutcome['failedChecks'] };
  const v = await (await registryOf(ctx.rt)).getVersion(model, d.candidateVersion);
  const outcome: ModelOutcome = {
    version: d.candidateVersion, runId, trigger, blessed: d.blessed, aliases: v?.aliases ?? [], metrics: d.metrics, failedChecks: d.failedChecks, requestedAt,
  };
  ctx.record.models.push(outcome);
  return { outcome, at: end.at };
}

export function verdict(o: ModelOutcome): string {
  const m = (k: string) => (o.metrics[k] === undefined ? 'n/a' : o.metrics[k]!.toFixed(4));
  const head = `${o.blessed ? 'BLESSED' : 'REFUSED'} version ${o.version} (AUC ${m('auc')}, log loss ${m('log_loss')})`;
  const aliases = o.aliases.length ? `; aliases: ${o.aliases.join(', ')}` : '';
  const reasons = o.failedChecks.length ? `; failed checks: ${o.failedChecks.map((c) => `${c.check}${c.slice ? ` [${c.slice}]` : ''}: ${c.detail}`).join('; ')}` : '; every gate check passed';
  return head + aliases + reasons;
}
