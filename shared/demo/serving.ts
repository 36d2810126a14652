import { readRowBatches } from '../features/local-files.js';
import { ingestLabels, type LabelInput } from '../serving/labels.js';
import { deliveryOf } from '../delivery/runtime.js';
import { EndpointFirstPredictor } from '../serving/endpoint-predictor.js';
import { PredictService } from '../serving/predict-service.js';
import { loadServedModels } from '../serving/served-models.js';
import { ServingLog } from '../serving/serving-log.js';
import type { Runtime } from '../runtime/runtime.js';
import { describeError } from '../errors.js';
import type { ReplayWeek } from '../../examples/flights/replay.js';
import type { DemoContext, WeekHook } from './stage.js';
import { DEMO_MODEL } from './stages/history.js';

/** Instances per /predict request: traffic is split per request, so small requests spread over champion and canary. */
const PER_REQUEST = 25;

interface Departure {
  time: Date;
  instance: Record<string, string | number>;
  delayed: 0 | 1;
}

async function departures(week: ReplayWeek, cap: number): Promise<Departure[]> {
  const out: Departure[] = [];
  for await (const batch of readRowBatches(week.files.flights, 'parquet', 10_000)) {
    for (const r of batch as Record<string, unknown>[]) {
      const ts = r.event_timestamp;
      out.push({
        time: ts instanceof Date ? ts : new Date(String(ts)),
        instance: { origin: String(r.origin), destination: String(r.destination), hour: Number(r.hour), weekday: Number(r.weekday), flight_distance: Number(r.flight_distance) },
        delayed: Number(r.delayed) === 1 ? 1 : 0,
      });
    }
  }
  out.sort((a, b) => a.time.getTime() - b.time.getTime());
  if (out.length <= cap) return out;
  const step = out.length / cap; // an even sample over the week, in time order
  return Array.from({ length: cap }, (_, i) => out[Math.floor(i * step)]!);
}

/**
 * `/predict` as `ctloop serve` builds it (shared/serving/local-serving.ts), in process: online features from the
 * runtime's online store, the serving log in its warehouse, predictions from the loop's endpoint (the deployed
 * champion and canary, split per request). No fallback server: the demo predicts only once a version is deployed.
 * Its clock is the simulated one.
 */
function openServing(rt: Runtime, specs: Awaited<ReturnType<typeof loadServedModels>>, endpoint: Awaited<ReturnType<typeof deliveryOf>>['endpoint'], now: () => Date): { service: PredictService; log: ServingLog } {
  const log = new ServingLog(rt.warehouse, { flushMs: 0, maxBatch: 5_000 });
  const service = new PredictService({
    predictor: new EndpointFirstPredictor(endpoint, null), online: rt.online, repo: rt.repo, models: specs, log,
    defaultModel: DEMO_MODEL, served: new Set([DEMO_MODEL]), now,
  });
  return { service, log };
}

/**
 * Serving traffic for every simulated week once a model is deployed: that week's departures (all of them with
 * --quick, an even sample otherwise) are predicted through `/predict` (the PredictService in process, no HTTP), in
 * small requests stamped at the departure's simulated time, so the endpoint's traffic split (champion, canary) and the
 * serving log see them as live traffic. The outcomes (`delayed`) become known a week later: the next week first joins
 * the previous week's labels to the serving log (the labels join of `ctloop labels ingest`), which `ctloop monitor`
 * turns into live AUC per version.
 */
export function servingHook(): WeekHook {
  let serving: { service: PredictService; log: ServingLog } | null = null;
  let at = new Date(0);
  let pending: LabelInput[] = [];
  return {
    name: 'serving',
    async onWeek(ctx: DemoContext, week: ReplayWeek) {
      if (!serving) {
        serving = openServing(ctx.rt, await loadServedModels(ctx.rt.config.training.modelsFile, ctx.rt.repo), (await deliveryOf(ctx.rt)).endpoint, () => at);
        const log = serving.log;
        ctx.closers.push(() => log.close());
      }
      const s = ctx.record.serving;
      if (pending.length > 0) {
        const r = await ingestLabels(ctx.rt.warehouse, DEMO_MODEL, pending, { now: ctx.clock.now });
        s.labelled += r.labelled;
        ctx.narrate(`labels: ${r.labelled} outcomes of last week's predictions arrived and were joined to the serving log${r.unmatchedLines.length ? ` (${r.unmatchedLines.length} matched no prediction)` : ''}`);
        pending = [];
      }
      const deps = await departures(week, ctx.opts.quick ? 5_000 : 2_500);
      const byVersion: Record<string, number> = {};
      let failed = 0;
      for (let i = 0; i < deps.length; i += PER_REQUEST) {
        const chunk = deps.slice(i, i + PER_REQUEST);
        at = chunk[0]!.time;
        const requestId = `demo-w${week.index + 1}-${i / PER_REQUEST}`;
        try {
          const res = await serving.service.predict({ model: DEMO_MODEL, instances: chunk.map((d) => d.instance) }, { requestId });
          byVersion[res.model.version] = (byVersion[res.model.version] ?? 0) + res.predictions.length;
          if (s.sample === null) s.sample = { requestId, model: res.model, prediction: res.predictions[0]!, at: at.toISOString() };
          chunk.forEach((d, k) => pending.push({ line: pending.length + 1, requestId, instance: k, keys: {}, time: new Date(d.time.getTime() + 3_600_000), label: d.delayed }));
        } catch (err) {
          failed += chunk.length;
          if (failed === chunk.length) ctx.narrate(`/predict failed: ${describeError(err)}`);
        }
      }
      await serving.log.flush();
      const served = Object.values(byVersion).reduce((a, b) => a + b, 0);
      s.predictions += served;
      s.failed += failed;
      for (const [v, n] of Object.entries(byVersion)) s.byVersion[v] = (s.byVersion[v] ?? 0) + n;
      ctx.narrate(`/predict: ${served} departures of the week to ${week.end.toISOString().slice(0, 10)} predicted in ${Math.ceil(deps.length / PER_REQUEST)} requests (${Object.entries(byVersion).map(([v, n]) => `v${v}: ${n}`).join(', ') || 'none'})${failed ? `, ${failed} failed` : ''}; serving log ${serving.log.written} rows`);
    },
  };
}
