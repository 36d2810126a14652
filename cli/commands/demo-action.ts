import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildReport } from './report-build.js';
import type { DemoCliOptions } from './demo.js';
import { loadConfig } from '../../shared/config/config.js';
import { DemoReporter } from '../../shared/demo/progress.js';
import { freshDemoState } from '../../shared/demo/fresh-state.js';
import { runDemoStages, type DemoLoop } from '../../shared/demo/run.js';
import { demoStages, weekHooks } from '../../shared/demo/stages.js';
import { renderSummary } from '../../shared/demo/summary.js';
import { scheduleChange } from '../../examples/flights/scenario.js';
import { createRuntime, type Runtime } from '../../shared/runtime/runtime.js';
import { formatOf, output } from '../context.js';
import { UsageError } from '../../shared/errors.js';

/** What a transport adds to the demo's result: JSON fields and summary lines (the emulators' push counts). */
export interface TransportReport {
  json: Record<string, unknown>;
  lines: string[];
}

/** `ctloop demo` (registered in demo.ts; loaded when it runs). */
export async function runDemo(opts: DemoCliOptions, cmd: Command): Promise<void> {
  const t0 = Date.now();
  formatOf(cmd); // refuse a bad --format before any work
  // Progress and narrative go to stderr in every format (a long run never looks hung); --format json keeps stdout clean.
  if (opts.online !== undefined && !opts.emulators) {
    throw new UsageError('--online chooses the online-store emulator: it needs --emulators', { hint: 'ctloop demo --emulators --online bigtable' });
  }
  if (opts.online !== undefined && opts.online !== 'firestore' && opts.online !== 'bigtable') {
    throw new UsageError(`--online must be firestore or bigtable, got ${JSON.stringify(opts.online)}`, { hint: 'ctloop demo --emulators --online bigtable' });
  }
  const reporter = new DemoReporter(process.stderr);
  if (opts.emulators) {
    await (await import('./demo-emulators.js')).runDemoOnEmulators(opts, cmd, reporter, t0);
    return;
  }
  const config = loadConfig();
  const { removed } = await freshDemoState(config);
  reporter.line(`ctloop demo${opts.quick ? ' --quick' : ''}: mode ${config.mode}, state in ${config.stateDir}${removed ? ' (the previous demo\'s state was removed)' : ''}`);
  const rt = await createRuntime(config);
  try {
    await runDemoOn(rt, opts, cmd, reporter, t0);
  } finally {
    await rt.close();
  }
}

/** The stages, the report and the summary on a runtime (embedded, or over the emulators with `loop`). */
export async function runDemoOn(rt: Runtime, opts: DemoCliOptions, cmd: Command, reporter: DemoReporter, t0: number, loop?: DemoLoop, transport?: () => Promise<TransportReport>): Promise<void> {
  const config = rt.config;
  const record = await runDemoStages(rt, {
    quick: Boolean(opts.quick), flightRows: opts.flightRows ?? (opts.quick ? 40_000 : 300_000), batch: opts.batch,
    scenario: opts.scenario ? scheduleChange : null, schedules: opts.schedules, trainingTimeoutMs: 15 * 60_000,
  }, demoStages, weekHooks(), reporter, ...(loop ? [loop] : []));
  // What `ctloop report` writes, from the same state: drift, metrics, canary vs champion, live performance, lineage.
  const r0 = Date.now();
  const { html } = await buildReport(rt);
  record.report = join(config.stateDir, 'demo', 'report.html');
  await writeFile(record.report, html);
  reporter.line(`report: wrote ${record.report} (${(Buffer.byteLength(html) / 1024).toFixed(0)} KB) in ${((Date.now() - r0) / 1000).toFixed(1)} s; \`npx ctloop ui\` serves it`);
  const extra = transport ? await transport() : { json: {}, lines: [] };
  const seconds = (Date.now() - t0) / 1000;
  const champion = [...record.models].reverse().find((m) => record.deployments.some((d) => d.version === m.version && d.phase === 'promoted'));
  const serving = record.serving.sample;
  output(cmd, { seconds, mode: config.mode, ...record, ...extra.json }, () => [
    '',
    ...(extra.lines.length ? [...extra.lines, ''] : []),
    renderSummary(record, seconds),
    '',
    champion ? `Champion serving: flight_delay v${champion.version} (AUC ${champion.metrics.auc?.toFixed(4) ?? 'n/a'}), answering /predict${serving ? ` (its first live answer in the replay: request ${serving.requestId}, by v${serving.model.version}: ${serving.prediction.toFixed(3)})` : ''}.` : 'No champion is serving.',
    config.mode === 'emulators'
      ? 'Next: npm run emulators (the same functions, served until Ctrl-C) · npx ctloop demo (the embedded default)'
      : 'Next: npx ctloop why flight_delay@champion · npx ctloop status · npx ctloop monitor --model flight_delay · npx ctloop serve',
  ].join('\n'));
}
