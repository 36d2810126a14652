import { join } from 'node:path';
import type { Command } from 'commander';
import { DuckDBInstance } from '@duckdb/node-api';
import { connectUtc } from '../../shared/adapters/warehouse/duckdb/connect.js';
import { handlers } from '../../functions/handlers.js';
import { createEvent } from '../../shared/events/catalog.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { getHistoricalFeatures } from '../../shared/features/historical.js';
import { readRowBatches } from '../../shared/features/local-files.js';
import { getOnlineFeatures } from '../../shared/features/online.js';
import { startLocalFunctions } from '../../shared/runtime/local-loop.js';
import { catalog } from '../../shared/events/catalog.js';
import { prepareFlightFiles } from '../../examples/flights/data.js';
import { prepareFlightsView } from '../../examples/flights/flights-view.js';
import { output, progress, withRuntime } from '../context.js';

const SOURCE = 'ctloop/demo/flights-app';

/** `ctloop demo` (registered in demo.ts; loaded when it runs). */
export async function runDemo(opts: { spineRows: number; batch: number; flightRows?: number }, cmd: Command): Promise<void> {
  const say = progress(cmd);
  const t0 = Date.now();
  const lap = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  await withRuntime(async (rt) => {
    say(`mode ${rt.config.mode}: warehouse ${rt.config.warehouse.kind}, object store ${rt.config.objectStore.kind}, bus ${rt.config.eventBus.kind}; state in ${rt.config.stateDir}`);
    const plan = await applyFeatureRepo(rt.warehouse, rt.repo);
    say(`[${lap()}] features apply: ${plan.changes.map((c) => `${c.table} ${c.action}`).join(', ')}`);

    const dir = join(rt.config.stateDir, 'demo');
    const files = await prepareFlightFiles(dir, { spineFrom: '2001-03-01', spineTo: '2001-07-01', spineRows: opts.spineRows });
    say(`[${lap()}] prepared ${files.counts.routeDaily} route-day and ${files.counts.airportDaily} airport-day rows, spine of ${files.counts.spine} flights`);

    const fns = await startLocalFunctions(rt, handlers);
    try {
      // 1. Streaming path: airport statistics published as feature-row events, as an application would.
      let events = 0;
      let rows = 0;
      const topic = catalog.featureRows.topic;
      let first: ReturnType<typeof createEvent<'featureRows'>> | undefined;
      for await (const batch of readRowBatches(files.airportDaily, 'parquet', opts.batch)) {
        // Deterministic ids: running the demo again republishes the same events, which ingest stores once.
        const ev = createEvent('featureRows', { view: 'airport_daily', rows: batch as Record<string, unknown>[] }, { source: SOURCE, id: `demo-airport-daily-${events}`, time: new Date('2001-07-01T00:00:00Z') });
        first ??= ev;
        await rt.bus.publish(topic, ev);
        events++;
        rows += batch.length;
      }
      // At-least-once delivery happens: publish the first event again (its rows must be stored once),
      // and a batch with poison rows (good rows stored, bad ones quarantined with reasons).
      if (first) await rt.bus.publish(topic, first);
      await rt.bus.publish(topic, createEvent('featureRows', { view: 'airport_daily', rows: [
        { airport: 'ZZZ', event_timestamp: '2001-01-02T00:00:00Z', airport_flights: 1, airport_avg_delay: 0, airport_delayed_share: 0 },
        { airport: 'SFO', event_timestamp: 'yesterday', airport_flights: 1 },
        { airport: null, event_timestamp: '2001-01-02T00:00:00Z' },
        { airport: 'LAX', event_timestamp: '2001-01-02T00:00:00Z', airport_flights: 'many' },
      ] }, { source: SOURCE, id: 'demo-airport-daily-poison', time: new Date('2001-07-01T00:00:00Z') }));
      say(`[${lap()}] published ${events} feature events (${rows} rows), 1 duplicate delivery and 1 batch with 3 poison rows`);

      // 2. Batch path: a bulk file lands in the object store and a file-ready event names it.
      const uri = `gs://${rt.config.artifactBucket}/incoming/route_daily.parquet`;
      // Upload once: the same object version loads once, so a second demo run stores nothing new.
      if (!(await rt.objectStore.exists(uri))) await rt.objectStore.upload(files.routeDaily, uri);
      await rt.bus.publish(catalog.featureFileReady.topic, createEvent('featureFileReady', { view: 'route_daily', uri, format: 'parquet' }, { source: SOURCE }));
      // Labelled departures (the flights view): the spine the flight_delay model trains on (models.yaml).
      const flights = await prepareFlightsView(dir, { rows: opts.flightRows ?? 300_000 });
      const flightsUri = `gs://${rt.config.artifactBucket}/incoming/flights-${flights.rows}.parquet`;
      if (!(await rt.objectStore.exists(flightsUri))) await rt.objectStore.upload(flights.path, flightsUri);
      await rt.bus.publish(catalog.featureFileReady.topic, createEvent('featureFileReady', { view: 'flights', uri: flightsUri, format: 'parquet' }, { source: SOURCE }));
      say(`[${lap()}] uploaded ${uri} and published its file-ready event; waiting for the functions`);
      await rt.bus.drain(600_000);
    } finally {
      await fns.stop();
    }
    const count = async (t: string) => Number((await rt.warehouse.query(`SELECT COUNT(*) AS n FROM ${rt.warehouse.dialect.table(t)}`))[0]!.n);
    const stored = { airport_daily: await count('fv_airport_daily'), route_daily: await count('fv_route_daily'), flights: await count('fv_flights'), quarantined: await count('_quarantine') };
    say(`[${lap()}] stored ${stored.airport_daily} airport-day rows (expected ${(files.counts.airportDaily ?? 0) + 1}), ${stored.route_daily} route-day rows (expected ${files.counts.routeDaily}), ${stored.quarantined} quarantined`);

    // 3. Point-in-time training set for the delay model.
    const out = join(dir, 'training.parquet');
    const hist = await getHistoricalFeatures({ ...rt, scratchBucket: rt.config.artifactBucket, onProgress: (s) => say(`[${lap()}] ${s}`) }, {
      spine: files.spine, timestampColumn: 'event_timestamp', features: ['service:delay_model'], out,
    });
    const quality = await trainingSetQuality(out);
    say(`[${lap()}] training set: ${hist.rows} rows, route features present in ${(quality.routeMatch * 100).toFixed(1)}%, airport features in ${(quality.airportMatch * 100).toFixed(1)}%, ${(quality.positive * 100).toFixed(1)}% delayed`);

    // 4. Online values, as the inference API will read them.
    const asOf = new Date('2001-07-01T12:00:00Z');
    const online = await getOnlineFeatures(rt, { view: 'route_daily', asOf, entities: [{ origin: 'SFO', destination: 'LAX' }, { origin: 'SFO', destination: 'NOWHERE' }] });
    const summary = {
      mode: rt.config.mode, seconds: (Date.now() - t0) / 1000, stored, trainingSet: { path: out, rows: hist.rows, columns: hist.columns, ...quality },
      online,
    };
    output(cmd, summary, () => [
      '',
      `ctloop demo finished in ${summary.seconds.toFixed(1)} s (${rt.config.mode} mode)`,
      `  feature rows stored: airport_daily ${stored.airport_daily}, route_daily ${stored.route_daily}; quarantined ${stored.quarantined} (see: npx ctloop features quarantine)`,
      `  training set: ${out} (${hist.rows} rows; columns ${hist.columns.join(', ')})`,
      `  online route_daily SFO→LAX as of ${asOf.toISOString()}: ${online.metadata.feature_names.map((f, i) => `${f}=${fmt(online.results[i]!.values[0])} [${online.results[i]!.statuses[0]}]`).join(', ')}`,
      `  online route_daily SFO→NOWHERE: ${online.results[0]!.statuses[1]}`,
      '',
      `  labelled flights stored: ${stored.flights} (train the delay model on them: npx ctloop train --model flight_delay --wait)`,
      'Next: npx ctloop features online --view route_daily --key origin=SFO --key destination=LAX --as-of 2001-07-01T12:00:00Z',
    ].join('\n'));
  });
}

function fmt(v: unknown): string {
  return typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(3) : String(v);
}

async function trainingSetQuality(path: string): Promise<{ routeMatch: number; airportMatch: number; positive: number }> {
  const instance = await DuckDBInstance.create(':memory:');
  const c = await connectUtc(instance);
  try {
    const r = (await c.runAndReadAll(`SELECT AVG(CASE WHEN route_flights IS NOT NULL THEN 1.0 ELSE 0.0 END) AS rm, AVG(CASE WHEN airport_flights IS NOT NULL THEN 1.0 ELSE 0.0 END) AS am, AVG(delayed) AS pos FROM read_parquet('${path.replace(/'/g, "''")}')`)).getRowObjectsJS()[0]!;
    return { routeMatch: Number(r.rm), airportMatch: Number(r.am), positive: Number(r.pos) };
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}
