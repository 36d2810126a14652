import type { ModelSpec } from '../../models/config.js';
import { loadModels } from '../../models/config.js';
import { replayWeek } from '../replay-week.js';
import type { DemoContext, DemoStage } from '../stage.js';

export const DEMO_MODEL = 'flight_delay';

/** The first Monday at which the model's split windows (models.yaml: train + validation + test) hold data. */
export function firstModelDate(ctx: DemoContext, model: ModelSpec): Date {
  const weeks = ctx.replay!.weeks;
  const need = (model.split.train + model.split.validation + model.split.test) * 1000;
  const hit = weeks.find((w) => w.end.getTime() - weeks[0]!.start.getTime() >= need);
  return hit ? hit.end : weeks.at(-1)!.end;
}

/** Replay the weeks before the first model: feature events and weekly files through the functions. */
export const historyStage: DemoStage = {
  name: 'history',
  async run(ctx, progress) {
    const model = (await loadModels(ctx.rt.config.training.modelsFile, ctx.rt.repo)).model(DEMO_MODEL);
    const until = firstModelDate(ctx, model);
    ctx.firstModelAt = until;
    const weeks = ctx.replay!.weeks.filter((w) => w.end <= until);
    let events = 0;
    let rows = 0;
    for (const [i, w] of weeks.entries()) {
      const r = await replayWeek(ctx, w);
      events += r.events;
      rows += r.rows;
      progress.update(i + 1, weeks.length, `simulated ${w.end.toISOString().slice(0, 10)}`);
    }
    ctx.narrate(`replayed ${weeks.length} weeks up to ${until.toISOString().slice(0, 10)}: ${events} events (${rows} rows) through ingest-features and load-feature-file`);
    return { headline: `${weeks.length} weeks, ${events} events, ${rows} rows ingested` };
  },
};
