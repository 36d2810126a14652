import { catalog, createEvent } from '../events/catalog.js';
import { readRowBatches } from '../features/local-files.js';
import type { ReplayWeek } from '../../examples/flights/replay.js';
import type { DemoContext } from './stage.js';

const SOURCE = 'ctloop/demo/flights-app';

/**
 * Publish one simulated week of data as an application would: departures with their outcome and airport
 * statistics as feature-row events (the streaming path through ingest-features), route statistics as one file per
 * week named by a file-ready event (the batch path through load-feature-file); then wait for the functions. Event
 * ids are stable, so a redelivery stores nothing twice. Moves the simulated clock to the week's end.
 */
export async function replayWeek(ctx: DemoContext, week: ReplayWeek): Promise<{ events: number; rows: number }> {
  const { rt } = ctx;
  const time = week.end;
  let events = 0;
  let rows = 0;
  for (const [view, file] of [['flights', week.files.flights], ['airport_daily', week.files.airportDaily]] as const) {
    let i = 0;
    for await (const batch of readRowBatches(file, 'parquet', ctx.opts.batch)) {
      const ev = createEvent('featureRows', { view, rows: batch as Record<string, unknown>[] }, { source: SOURCE, id: `demo-${view}-w${week.index + 1}-${i++}`, time });
      await rt.bus.publish(catalog.featureRows.topic, ev);
      events++;
      rows += batch.length;
    }
  }
  if (week.counts.routeDaily > 0) {
    const uri = `gs://${rt.config.artifactBucket}/incoming/demo/route_daily/week-${String(week.index + 1).padStart(2, '0')}.parquet`;
    if (!(await rt.objectStore.exists(uri))) await rt.objectStore.upload(week.files.routeDaily, uri);
    await rt.bus.publish(catalog.featureFileReady.topic, createEvent('featureFileReady', { view: 'route_daily', uri, format: 'parquet' }, { source: SOURCE, id: `demo-route_daily-w${week.index + 1}`, time }));
    events++;
    rows += week.counts.routeDaily;
  }
  await rt.bus.drain(600_000);
  ctx.clock.now = week.end;
  return { events, rows };
}
