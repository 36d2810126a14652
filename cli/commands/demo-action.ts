import type { Command } from 'commander';
import { loadConfig } from '../../shared/config/config.js';
import { DemoReporter } from '../../shared/demo/progress.js';
import { freshDemoState } from '../../shared/demo/fresh-state.js';
import { runDemoStages } from '../../shared/demo/run.js';
import { demoStages, weekHooks } from '../../shared/demo/stages.js';
import { renderSummary } from '../../shared/demo/summary.js';
import { scheduleChange } from '../../examples/flights/scenario.js';
import { createRuntime } from '../../shared/runtime/runtime.js';
import { formatOf, output } from '../context.js';

/** `ctloop demo` (registered in demo.ts; loaded when it runs). */
export async function runDemo(opts: { quick?: boolean; flightRows?: number; batch: number; scenario: boolean; schedules: string }, cmd: Command): Promise<void> {
  const t0 = Date.now();
  formatOf(cmd); // refuse a bad --format before any work
  // Progress and narrative go to stderr in every format (a long run never looks hung); --format json keeps stdout clean.
  const reporter = new DemoReporter(process.stderr);
  const config = loadConfig();
  const { removed } = await freshDemoState(config);
  reporter.line(`ctloop demo${opts.quick ? ' --quick' : ''}: mode ${config.mode}, state in ${config.stateDir}${removed ? ' (the previous demo\'s state was removed)' : ''}`);
  const rt = await createRuntime(config);
  try {
    const record = await runDemoStages(rt, {
      quick: Boolean(opts.quick), flightRows: opts.flightRows ?? (opts.quick ? 40_000 : 300_000), batch: opts.batch,
      scenario: opts.scenario ? scheduleChange : null, schedules: opts.schedules, trainingTimeoutMs: 15 * 60_000,
    }, demoStages, weekHooks, reporter);
    const seconds = (Date.now() - t0) / 1000;
    const champion = record.models.find((m) => m.aliases.includes('champion'));
    output(cmd, { seconds, ...record }, () => [
      '',
      renderSummary(record, seconds),
      '',
      champion ? `Champion: flight_delay v${champion.version} (AUC ${champion.metrics.auc?.toFixed(4) ?? 'n/a'}).` : 'No champion was registered.',
      'Next: npx ctloop models list · npx ctloop runs list · npx ctloop drift history --view flights',
    ].join('\n'));
  } finally {
    await rt.close();
  }
}
