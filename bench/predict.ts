import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedOnlineStore } from '../shared/adapters/online-store/embedded/index.js';
import { createWarehouse } from '../shared/adapters/warehouse/index.js';
import { startPredictServer } from '../shared/serving/http.js';
import { startModelServer } from '../shared/serving/model-server-process.js';
import { PredictService } from '../shared/serving/predict-service.js';
import { ServingLog } from '../shared/serving/serving-log.js';
import { SingleVersionPredictor } from '../shared/serving/single-version-predictor.js';
import { servedSpec, servingRepo } from '../test/helpers/serving-fixtures.js';
import { trainSmallModel, xgboostSkipReason } from '../test/helpers/xgb-model.js';
import { line } from './util.js';

export interface PredictBenchOptions {
  /** Routes (and airports) written to the online store. */
  routes: number;
  warmup: number;
  requests: number;
  /** Requests in flight for the throughput figure. */
  concurrency: number;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

function post(agent: Agent, url: URL, body: string): Promise<number> {
  return new Promise((res, rej) => {
    const t = performance.now();
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (r) => {
      r.resume();
      r.on('end', () => (r.statusCode === 200 ? res(performance.now() - t) : rej(new Error(`status ${r.statusCode}`))));
    });
    req.on('error', rej);
    req.end(body);
  });
}

async function measure(label: string, url: URL, bodies: string[], o: PredictBenchOptions): Promise<{ p50: number; p99: number; rps: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
  try {
    for (let i = 0; i < o.warmup; i++) await post(agent, url, bodies[i % bodies.length]!);
    const lat: number[] = [];
    for (let i = 0; i < o.requests; i++) lat.push(await post(agent, url, bodies[i % bodies.length]!));
    let next = 0;
    const t = performance.now();
    await Promise.all(Array.from({ length: o.concurrency }, async () => { while (next < o.requests) await post(agent, url, bodies[next++ % bodies.length]!); }));
    const rps = o.requests / ((performance.now() - t) / 1000);
    const r = { p50: pct(lat, 50), p99: pct(lat, 99), rps };
    line(`${label}: p50 / p99 (1 instance, sequential)`, `${r.p50.toFixed(2)} ms / ${r.p99.toFixed(2)} ms`);
    line(`${label}: throughput (${o.concurrency} in flight)`, `${r.rps.toFixed(0)} req/s`);
    return r;
  } finally {
    agent.destroy();
  }
}

/**
 * `/predict` latency on the embedded default after warm-up: one instance with entity keys (route and airport
 * features read from the embedded online store, merged, sent to the model server, logged in batches to DuckDB),
 * beside the model server alone answering the same, already assembled instance. Overhead = /predict ÷ server.
 * Goal: /predict p99 ≤ 5 ms for one instance.
 */
export async function runPredictBench(o: PredictBenchOptions): Promise<Record<string, number>> {
  console.log('\npredict: POST /predict with online features vs the model server alone (embedded default)');
  const why = xgboostSkipReason();
  if (why) { console.log(`  skipped: ${why}`); return {}; }
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-bench-predict-'));
  const repo = servingRepo();
  const model = trainSmallModel(3, join(dir, 'model'));
  const server = await startModelServer(model.dir);
  const online = await EmbeddedOnlineStore.open({ dir: join(dir, 'online') });
  const warehouse = await createWarehouse({ kind: 'duckdb', path: join(dir, 'w.duckdb') });
  const log = new ServingLog(warehouse, { flushMs: 1000 });
  const codes = Array.from({ length: o.routes }, (_, i) => `A${String(i).padStart(4, '0')}`);
  const now = new Date();
  await online.write(repo.view('route_daily'), codes.map((c, i) => ({ key: [c, codes[(i + 1) % codes.length]!], eventTime: now, createdTime: now, ingestId: 'b', values: { route_avg_delay: (i % 50) / 2 } })));
  await online.write(repo.view('airport_daily'), codes.map((c, i) => ({ key: [c], eventTime: now, createdTime: now, ingestId: 'b', values: { airport_delayed_share: (i % 10) / 20 } })));
  const service = new PredictService({
    predictor: SingleVersionPredictor.of([{ model: 'flight_delay', version: '1', server }]), online, repo, log,
    models: new Map([['flight_delay', servedSpec]]), defaultModel: 'flight_delay', served: new Set(['flight_delay']),
  });
  const http = await startPredictServer(service, { port: 0 });
  try {
    const n = Math.min(o.routes, 500);
    const withKeys = codes.slice(0, n).map((c, i) => JSON.stringify({ instances: [{ origin: c, destination: codes[(i + 1) % codes.length], hour: i % 24 }] }));
    const assembled = codes.slice(0, n).map((c, i) => JSON.stringify({ instances: [{ origin: c, destination: codes[(i + 1) % codes.length], hour: i % 24, route_avg_delay: (i % 50) / 2, airport_delayed_share: (i % 10) / 20 }] }));
    const api = await measure('/predict with online features', new URL(`${http.url}/predict`), withKeys, o);
    const alone = await measure('model server alone', new URL(`${server.url}/predict`), assembled, o);
    line('overhead of /predict (p50 ratio, p99 ratio)', `${(api.p50 / alone.p50).toFixed(2)}× / ${(api.p99 / alone.p99).toFixed(2)}×`);
    line('goal: /predict p99 ≤ 5 ms', api.p99 <= 5 ? `met (${api.p99.toFixed(2)} ms)` : `NOT met (${api.p99.toFixed(2)} ms)`);
    await log.flush();
    line('serving log rows written (batched)', String(log.written));
    return { predictP50: api.p50, predictP99: api.p99, predictRps: api.rps, serverP50: alone.p50, serverP99: alone.p99, serverRps: alone.rps };
  } finally {
    await http.close();
    await log.close();
    await server.stop();
    await online.close();
    await warehouse.close();
    await rm(dir, { recursive: true, force: true });
  }
}
