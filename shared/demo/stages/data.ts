import { join } from 'node:path';
import { applyFeatureRepo } from '../../features/apply.js';
import { prepareReplay } from '../../../examples/flights/replay.js';
import type { DemoStage } from '../stage.js';

/** Create the feature tables and cut the real flights data into the weeks the replay publishes. */
export const dataStage: DemoStage = {
  name: 'data',
  async run(ctx, progress) {
    const plan = await applyFeatureRepo(ctx.rt.warehouse, ctx.rt.repo);
    ctx.narrate(`features apply: ${plan.changes.map((c) => `${c.table} ${c.action}`).join(', ') || 'no changes'}`);
    progress.update(1, 2, 'cutting the flights data into weeks');
    ctx.replay = await prepareReplay(join(ctx.dir, 'replay'), { flightRows: ctx.opts.flightRows, scenario: ctx.opts.scenario });
    progress.update(2, 2);
    const w = ctx.replay.weeks;
    if (ctx.opts.scenario) ctx.narrate(`SCENARIO (injected, not in the real data): ${ctx.opts.scenario.description}`);
    return { headline: `${w.length} weeks (${w[0]!.start.toISOString().slice(0, 10)} → ${w.at(-1)!.end.toISOString().slice(0, 10)}), ${ctx.replay.flightRows} departures sampled from the 3M of vega-datasets` };
  },
};
