import type { Command } from 'commander';
import { handlers } from '../../functions/handlers.js';
import { catalog, createEvent, parseEventOf, type EventData } from '../../shared/events/catalog.js';
import { BackendError, ValidationError } from '../../shared/errors.js';
import { startLocalFunctions } from '../../shared/runtime/local-loop.js';
import { trainingContext } from '../../shared/training/context.js';
import { labelledDataEnd } from '../../shared/training/launch.js';
import { findRun, runIdFor, TERMINAL } from '../../shared/training/runs.js';
import { output, progress, withRuntime } from '../context.js';
import { runSummary } from './runs-format.js';

const SOURCE = 'ctloop/cli/train';

/** `ctloop train` (registered in train.ts; loaded when it runs). */
export async function runTrain(opts: { model: string; wait?: boolean; end?: Date; requestId?: string }, cmd: Command): Promise<void> {
  const say = progress(cmd);
  await withRuntime(async (rt) => {
    const ctx = await trainingContext(rt);
    const model = ctx.models.model(opts.model);
    const end = opts.end ?? (await labelledDataEnd(rt, model));
    if (!end) {
      throw new ValidationError(`view ${model.spine.view} has no labelled rows: nothing to train ${model.name} on`, {
        hint: `load labelled rows into ${model.spine.view} first (npm start loads the flights example), or pass --end`,
      });
    }
    const dedupKey = opts.requestId ?? `manual|${model.name}|${end.toISOString()}`;
    const runId = runIdFor(model.name, dedupKey);
    const before = await findRun(rt.warehouse, runId);
    const local = rt.config.eventBus.kind === 'memory';
    const evaluations: EventData<'modelEvaluated'>[] = [];
    const fns = local ? await startLocalFunctions(rt, handlers) : null;
    const evalSub = local
      ? await rt.bus.subscribe({ name: `ctloop-cli-train-${process.pid}`, topic: catalog.modelEvaluated.topic, types: [catalog.modelEvaluated.type] }, async (e) => {
        evaluations.push(parseEventOf('modelEvaluated', e).data);
      })
      : null;
    try {
      const event = createEvent('trainingRequested', {
        model: model.name, reason: 'manual', dedupKey,
        trainingWindow: { start: new Date(0).toISOString(), end: end.toISOString() },
      }, { source: SOURCE });
      await rt.bus.publish(catalog.trainingRequested.topic, event);
      say(before ? `run ${runId} was already requested (${before.state}): nothing new is launched` : `requested training of ${model.name}: run ${runId} (data up to ${end.toISOString()})`);
      const mustWait = opts.wait || (local && ctx.local !== null);
      if (local) {
        await rt.bus.drain(600_000);
        if (mustWait && ctx.local) {
          say(`training locally (${model.trainer.command.join(' ')}; timeout ${model.trainer.timeoutSeconds} s)…`);
          await ctx.local.idle();
          await rt.bus.drain(600_000); // completion → evaluation → registry
        }
      } else if (opts.wait) {
        await waitForRun(rt, runId, model.trainer.timeoutSeconds + 1800, say);
      }
      const run = await findRun(rt.warehouse, runId);
      if (mustWait && (!run || !TERMINAL.includes(run.state)) && local) {
        throw new BackendError(`run ${runId} did not start: launch-training could not handle the request (it is ${run?.state ?? 'unrecorded'})`, {
          hint: 'see why with: ctloop dead-letters list --consumer launch-training; fix it, then run ctloop train again',
        });
      }
      const extra = { launched: !before, evaluation: evaluations.at(-1) ?? null };
      if (!run) {
        output(cmd, { runId, model: model.name, state: 'REQUESTED', ...extra }, () => `run ${runId}: requested (follow it with: ctloop runs show ${runId})`);
        return;
      }
      const result = { ...runSummary(run), ...extra };
      output(cmd, result, () => textOf(result));
    } finally {
      await evalSub?.close();
      await fns?.stop();
    }
  });
}

/** Outside embedded mode the run ends in the cloud: the CLI (not a function) reads its record until it is terminal. */
async function waitForRun(rt: Parameters<Parameters<typeof withRuntime>[0]>[0], runId: string, seconds: number, say: (m: string) => void): Promise<void> {
  const until = Date.now() + seconds * 1000;
  let last = '';
  while (Date.now() < until) {
    const run = await findRun(rt.warehouse, runId);
    if (run && TERMINAL.includes(run.state)) return;
    if (run && run.state !== last) say(`run ${runId}: ${(last = run.state)}`);
    await new Promise((r) => setTimeout(r, 5000));
  }
  throw new ValidationError(`run ${runId} did not finish within ${seconds} s`, { hint: `follow it with: ctloop runs show ${runId}` });
}

function textOf(r: ReturnType<typeof runSummary> & { launched: boolean; evaluation: EventData<'modelEvaluated'> | null }): string {
  const lines = [`run ${r.runId}: ${r.state}${r.launched ? '' : ' (already requested: nothing launched)'}`];
  const m = r.metrics;
  if (typeof m.auc === 'number') lines.push(`  test metrics: AUC ${m.auc.toFixed(4)}, log loss ${Number(m.log_loss).toFixed(4)}, accuracy ${Number(m.accuracy).toFixed(4)} (${r.rows.test ?? '?'} test rows)`);
  if (r.trainSeconds !== null) lines.push(`  trained in ${r.trainSeconds.toFixed(2)} s; run took ${r.seconds?.toFixed(1) ?? '?'} s`);
  if (r.modelUri) lines.push(`  model: ${r.modelUri}`);
  if (r.error) lines.push(`  error: ${r.error}`);
  if (r.logsTail) lines.push('  last log lines:', ...r.logsTail.split('\n').map((l) => `    ${l}`));
  if (r.evaluation) lines.push(`  evaluation: ${r.evaluation.blessed ? 'blessed' : 'refused'}; candidate version ${r.evaluation.candidateVersion}${r.evaluation.failedChecks.length ? `; failed: ${r.evaluation.failedChecks.map((c) => c.check).join(', ')}` : ''}`);
  lines.push(`  details: ctloop runs show ${r.runId}`);
  return lines.join('\n');
}
