import type { Command } from 'commander';
import { handlers } from '../../functions/handlers.js';
import { awaitDriftReport, driftCheckEvent, runDriftCheckLocally, type DriftCheckOutcome } from '../../shared/drift/check.js';
import type { DriftReport } from '../../shared/drift/report.js';
import { catalog } from '../../shared/events/catalog.js';
import { trainingContext } from '../../shared/training/context.js';
import { endProgress, output, progress, withRuntime } from '../context.js';

export interface CheckOptions {
  view: string;
  from: Date;
  to: Date;
  model?: string;
  baseline?: string;
  preset?: 'evidently' | 'vertex';
  wait?: boolean;
  timeout: number;
}

/** `ctloop drift check` (registered in drift.ts; loaded when it runs). */
export async function runDriftCheck(opts: CheckOptions, cmd: Command, render: (r: DriftReport) => string): Promise<void> {
  const say = progress(cmd);
  await withRuntime(async (rt) => {
    const { event, baselineId } = await driftCheckEvent(rt, {
      view: opts.view, from: opts.from, to: opts.to,
      ...(opts.model ? { model: opts.model } : {}), ...(opts.baseline ? { baseline: opts.baseline } : {}), ...(opts.preset ? { preset: opts.preset } : {}),
    });
    const window = `${event.data.window!.start} → ${event.data.window!.end}`;
    if (rt.config.eventBus.kind === 'memory') {
      say(`drift check ${event.id}: ${event.data.view} ${window} against ${baselineId} (handled in this process)`);
      const o = await runDriftCheckLocally(rt, event, handlers, {
        say,
        // A training request it causes is launched here too: wait for the local trainer rather than leave it orphaned.
        waitTraining: async (r) => { await (await trainingContext(r)).local?.idle(); },
      });
      endProgress();
      print(cmd, o, opts.wait === true, render);
      return;
    }
    await rt.bus.publish(catalog.driftCheckRequested.topic, event);
    if (!opts.wait) {
      output(cmd, { triggerId: event.id, correlationId: event.correlationId, view: event.data.view, window: event.data.window, baseline: baselineId },
        () => `published drift check ${event.id} (${event.data.view} ${window}, baseline ${baselineId})\nfollow it with: ctloop drift history --view ${event.data.view}`);
      return;
    }
    say(`published drift check ${event.id}; waiting for detect-drift (up to ${opts.timeout} s)…`);
    const o = await awaitDriftReport(rt, event, baselineId, opts.timeout);
    endProgress();
    print(cmd, o, true, render);
  });
}

function print(cmd: Command, o: DriftCheckOutcome, full: boolean, render: (r: DriftReport) => string): void {
  const d = o.decision;
  const decision = d.action === 'retrain' ? `retrain: training run ${d.runId} (request ${d.eventId}) — ${d.reason}`
    : d.action === 'alert' ? `alert ${d.eventId}: ${d.reason}` : `no training: ${d.reason ?? 'no dataset drift'}`;
  output(cmd, o, () => [
    `drift report ${o.reportId}`,
    `  view ${o.view}, window ${o.window.start} → ${o.window.end}, baseline ${o.baseline}`,
    ...(full ? ['', render(o.report), ''] : [`  dataset drift: ${o.report.dataset_drift ? 'YES' : 'no'} (${o.report.features.filter((f) => f.drifted).length} of ${o.report.features.length} features drifted, ${o.report.anomalies.length} anomalies)`]),
    `decision: ${decision}`,
    `stored at ${o.reportUri}`,
  ].join('\n'));
}
