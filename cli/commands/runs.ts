import type { Command } from 'commander';
import { integerIn } from '../options.js';

const load = () => Promise.all([import('../context.js'), import('../../shared/training/runs.js'), import('./runs-format.js')]);

/** `ctloop runs list|show|compare`: the training runs recorded by launch-training (experiment tracking). */
export function register(program: Command): void {
  const runs = program.command('runs').description('training runs: list them, show one, compare parameters and metrics side by side');

  runs.command('list')
    .description('recent runs, newest first: state, trigger, test AUC and log loss')
    .option('--model <name>', 'only this model')
    .option('--limit <n>', 'at most this many runs (1 to 1000)', integerIn(1, 1000), 20)
    .action(async (opts: { model?: string; limit: number }, cmd: Command) => {
      const [{ output, withRuntime }, { listRuns }, { runSummary }] = await load();
      await withRuntime(async (rt) => {
        const items = (await listRuns(rt.warehouse, { ...(opts.model ? { model: opts.model } : {}), limit: opts.limit })).map(runSummary);
        output(cmd, items, () => (items.length === 0 ? 'no training runs (start one with: ctloop train --model <name>)'
          : items.map((r) => `${r.runId.padEnd(32)} ${r.state.padEnd(9)} ${r.trigger.padEnd(8)} ${r.createdAt}  ${typeof r.metrics.auc === 'number' ? `auc ${r.metrics.auc.toFixed(4)} log_loss ${Number(r.metrics.log_loss).toFixed(4)}` : (r.error ?? '').split('\n')[0]}`).join('\n')));
      }, { readOnly: true });
    });

  runs.command('show')
    .description('one run: trigger and causation, parameters, data snapshot, code version, timings, job, metrics, logs')
    .argument('<run-id>', 'as printed by ctloop train or ctloop runs list')
    .action(async (runId: string, _opts: unknown, cmd: Command) => {
      const [{ output, withRuntime }, { getRun }] = await load();
      await withRuntime(async (rt) => {
        const run = await getRun(rt.warehouse, runId);
        output(cmd, run, () => Object.entries(run).map(([k, v]) => `${k.padEnd(18)} ${v !== null && typeof v === 'object' ? JSON.stringify(v, null, 2).replace(/\n/g, '\n' + ' '.repeat(19)) : String(v)}`).join('\n'));
      }, { readOnly: true });
    });

  runs.command('reconcile')
    .description('look at every unfinished run once: complete those whose job ended, expire those past their deadline (what the scheduled reconciler does)')
    .action(async (_opts: unknown, cmd: Command) => {
      const [{ output, withRuntime }] = await load();
      const [{ trainingContext }, { reconcileRuns }] = await Promise.all([import('../../shared/training/context.js'), import('../../shared/training/job-state.js')]);
      await withRuntime(async (rt) => {
        const ctx = await trainingContext(rt);
        const out = await reconcileRuns({ ...rt, launcher: ctx.launcher, project: rt.config.project, region: rt.config.region });
        await rt.bus.drain(60_000).catch(() => undefined);
        output(cmd, out, () => (out.length === 0 ? 'no unfinished runs' : out.map((o) => `${o.runId.padEnd(32)} ${o.outcome}`).join('\n')));
      });
    });

  runs.command('compare')
    .description('parameters, data and metrics of runs side by side (differing rows marked *)')
    .argument('<run-ids...>', 'two or more run ids')
    .action(async (ids: string[], _opts: unknown, cmd: Command) => {
      const [{ output, withRuntime }, { getRun }, { flatten }] = await load();
      await withRuntime(async (rt) => {
        const runs = [];
        for (const id of ids) runs.push(await getRun(rt.warehouse, id));
        const cols = runs.map((r) => ({
          ...flatten({ params: r.params }), ...flatten({ rows: Object.fromEntries(Object.entries((r.datasets as { splits?: Record<string, { rows: number }> }).splits ?? {}).map(([k, v]) => [k, v.rows])) }),
          ...flatten({ metrics: Object.fromEntries(Object.entries(r.metrics).filter(([k]) => k !== 'logs_tail' && k !== 'params')) }),
          state: r.state, trigger: r.trigger, code: r.codeVersion ?? '',
        }));
        const keys = [...new Set(cols.flatMap((c) => Object.keys(c)))].sort();
        const table = keys.map((k) => ({ key: k, values: cols.map((c) => (c as Record<string, string>)[k] ?? null) }));
        output(cmd, { runs: ids, rows: table }, () => {
          const w = Math.max(...keys.map((k) => k.length)) + 2;
          const cw = Math.max(12, ...ids.map((i) => i.length)) + 2;
          const line = (k: string, vals: (string | null)[], mark = ' ') => `${mark}${k.padEnd(w)}${vals.map((v) => String(v ?? '—').slice(0, cw - 2).padEnd(cw)).join('')}`;
          return [line('', ids), ...table.map((r) => line(r.key, r.values, new Set(r.values).size > 1 ? '*' : ' '))].join('\n');
        });
      }, { readOnly: true });
    });
}
