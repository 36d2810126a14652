import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedOnlineStore } from '../../../shared/adapters/online-store/embedded/index.js';
import { createWarehouse } from '../../../shared/adapters/warehouse/index.js';
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import { startPredictServer, type PredictHttpServer } from '../../../shared/serving/http.js';
import { startModelServer, type ModelServerProcess } from '../../../shared/serving/model-server-process.js';
import { PredictService } from '../../../shared/serving/predict-service.js';
import { SingleVersionPredictor } from '../../../shared/serving/single-version-predictor.js';
import { SERVING_LOG_TABLE, ServingLog } from '../../../shared/serving/serving-log.js';
import { servingRepo } from '../../helpers/serving-fixtures.js';
import { trainSmallModel, xgboostSkipReason, type TrainedModel } from '../../helpers/xgb-model.js';

const skip = xgboostSkipReason();
if (skip) console.warn(`skipping /predict tests: ${skip}`);

const NOW = new Date('2001-04-10T12:00:00Z');
const API_KEY = 's3cret-key';

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, headers: r.headers, json: await r.json() };
}

describe.skipIf(Boolean(skip))('POST /predict on the embedded default (online features, serving log, every error path)', () => {
  let dir: string;
  let model: TrainedModel;
  let server: ModelServerProcess;
  let online: EmbeddedOnlineStore;
  let warehouse: Warehouse;
  let log: ServingLog;
  let http: PredictHttpServer;
  const repo = servingRepo();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ctloop-predict-'));
    model = trainSmallModel(11, join(dir, 'model'));
    server = await startModelServer(model.dir);
    online = await EmbeddedOnlineStore.open({ dir: join(dir, 'online') });
    const t = new Date('2001-04-10T00:00:00Z');
    await online.write(repo.view('route_daily'), [
      { key: ['ORD', 'LAX'], eventTime: t, createdTime: t, ingestId: 'a', values: { route_avg_delay: 21.5 } },
      { key: ['SFO', 'JFK'], eventTime: t, createdTime: t, ingestId: 'a', values: { route_avg_delay: 3.25 } },
    ]);
    await online.write(repo.view('airport_daily'), [
      { key: ['ORD'], eventTime: t, createdTime: t, ingestId: 'a', values: { airport_delayed_share: 0.41 } },
      { key: ['SFO'], eventTime: new Date('2001-04-01T00:00:00Z'), createdTime: t, ingestId: 'a', values: { airport_delayed_share: 0.1 } },
    ]);
    warehouse = await createWarehouse({ kind: 'duckdb', path: join(dir, 'w.duckdb') });
    log = new ServingLog(warehouse, { flushMs: 0 });
    const service = new PredictService({
      predictor: SingleVersionPredictor.of([{ model: 'flight_delay', version: '3', server }]),
      online, repo, log, now: () => NOW,
      models: new Map([['flight_delay', { name: 'flight_delay', featureService: 'delay_model', keys: { airport: 'origin' } }]]),
      defaultModel: 'flight_delay', served: new Set(['flight_delay', 'other_model']),
    });
    http = await startPredictServer(service, { port: 0, apiKey: API_KEY, bodyLimit: 20_000 });
  });
  afterAll(async () => {
    await http?.close();
    await server?.stop();
    await online?.close();
    await warehouse?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fetches features for entity keys, merges raw values (raw wins), predicts as the model server does, and logs every instance', async () => {
    const instances = [
      { origin: 'ORD', destination: 'LAX', hour: 17 },                        // both views from the online store
      { origin: 'SFO', destination: 'JFK', hour: 8 },                         // airport value older than its 2d ttl
      { origin: 'ATL', destination: 'ORD', hour: 6 },                         // no online rows at all
      { origin: 'ORD', destination: 'LAX', hour: 17, route_avg_delay: 0.5 },  // the caller's value wins
    ];
    const r = await post(http.url, { instances }, { 'x-request-id': 'req-1' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe('req-1');
    expect(r.json.model).toEqual({ name: 'flight_delay', version: '3' });
    expect(r.json.featureStatuses.map((s: Record<string, string>) => [s.route_avg_delay, s.airport_delayed_share])).toEqual([
      ['PRESENT', 'PRESENT'], ['PRESENT', 'OUTSIDE_MAX_AGE'], ['NOT_FOUND', 'NOT_FOUND'], ['REQUEST', 'PRESENT'],
    ]);
    const direct = await server.predict([
      { ...instances[0], route_avg_delay: 21.5, airport_delayed_share: 0.41 },
      { ...instances[1], route_avg_delay: 3.25, airport_delayed_share: null },
      { ...instances[2], route_avg_delay: null, airport_delayed_share: null },
      { ...instances[3], airport_delayed_share: 0.41 },
    ]);
    r.json.predictions.forEach((p: number, i: number) => expect(Math.abs(p - direct[i]!)).toBeLessThan(1e-9));

    await log.flush();
    const rows = await warehouse.query(`SELECT * FROM ${warehouse.dialect.table(SERVING_LOG_TABLE)} WHERE request_id = 'req-1' ORDER BY instance_index`);
    expect(rows).toHaveLength(4);
    expect(rows.map((x) => [x.model, x.version, x.deployed_model_id, x.error])).toEqual(Array(4).fill(['flight_delay', '3', 'local-flight_delay-3', null]));
    rows.forEach((x, i) => expect(x.prediction).toBeCloseTo(r.json.predictions[i], 12));
    expect(JSON.parse(String(rows[0]!.features))).toEqual({ origin: 'ORD', destination: 'LAX', hour: 17, route_avg_delay: 21.5, airport_delayed_share: 0.41 });
    expect(rows[0]!.entity_key).toBe('{"airport":"ORD","destination":"LAX","origin":"ORD"}');
    expect(new Date(rows[0]!.logged_at as Date).toISOString()).toBe(NOW.toISOString());
  });

  it('a raw-values-only instance needs no entity keys', async () => {
    const r = await post(http.url, { instances: [{ route_avg_delay: 5, airport_delayed_share: 0.2, hour: 3 }] });
    expect(r.status).toBe(200);
    expect(r.json.featureStatuses[0]).toEqual({ route_avg_delay: 'REQUEST', airport_delayed_share: 'REQUEST', hour: 'REQUEST' });
  });

  it('400 names every bad field: wrong types, unknown fields, empty instances, missing entity keys, non-JSON, a value the model refuses', async () => {
    const bad = await post(http.url, { instances: [{ origin: 'ORD', destination: 'LAX', hour: { h: 1 } }], extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.json.fields).toEqual(expect.arrayContaining(['instances[0].hour', 'extra']));
    expect(bad.json.message).toMatch(/instances\[0\]\.hour/);
    expect((await post(http.url, { instances: [] })).json.fields).toEqual(['instances']);
    expect((await post(http.url, { model: 'Bad Name!', instances: [{}] })).json.fields).toEqual(['model']);
    const keys = await post(http.url, { instances: [{ origin: 'ORD', destination: 'LAX' }, { origin: 'SFO', hour: 1 }] });
    expect(keys.status).toBe(400);
    expect(keys.json.fields).toEqual(['instances[1].destination']);
    const notJson = await post(http.url, '{"instances": [');
    expect(notJson.status).toBe(400);
    expect(notJson.json.message).toMatch(/not JSON/);
    const refused = await post(http.url, { instances: [{ route_avg_delay: 1, airport_delayed_share: 0.1, hour: 'noon' }] });
    expect(refused.status).toBe(400);
    expect(refused.json.message).toMatch(/feature hour must be a number/);
  });

  it('404 for a model nobody serves, and for an unknown route; 405 for GET /predict', async () => {
    const r = await post(http.url, { model: 'no_such_model', instances: [{ hour: 1 }] });
    expect(r.status).toBe(404);
    expect(r.json.message).toMatch(/no_such_model is not served/);
    expect((await fetch(`${http.url}/nope`, { headers: { 'x-api-key': API_KEY } })).status).toBe(404);
    expect((await fetch(`${http.url}/predict`, { headers: { 'x-api-key': API_KEY } })).status).toBe(405);
  });

  it('503 with Retry-After when the service knows the model but nothing can serve it (the failure is logged)', async () => {
    const r = await post(http.url, { model: 'other_model', instances: [{ hour: 1 }] }, { 'x-request-id': 'req-503' });
    expect(r.status).toBe(404); // known to the service, unknown to the predictor: 404 from the predictor
    const dead = await startModelServer(model.dir);
    const svc = new PredictService({
      predictor: SingleVersionPredictor.of([{ model: 'flight_delay', version: '4', server: dead }]), online, repo, log,
      models: new Map(), defaultModel: 'flight_delay', served: new Set(['flight_delay']), now: () => NOW,
    });
    const h = await startPredictServer(svc, { port: 0, retryAfterSeconds: 7 });
    try {
      await dead.stop();
      const res = await fetch(`${h.url}/predict`, { method: 'POST', headers: { 'x-request-id': 'req-503' }, body: JSON.stringify({ instances: [{ hour: 1 }, { hour: 2 }] }) });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect((await res.json()).message).toMatch(/flight_delay@4/);
      await log.flush();
      const rows = await warehouse.query(`SELECT version, prediction, error FROM ${warehouse.dialect.table(SERVING_LOG_TABLE)} WHERE request_id = 'req-503'`);
      expect(rows).toHaveLength(2);
      expect(rows.every((x) => x.prediction === null && x.version === null && /flight_delay@4/.test(String(x.error)))).toBe(true);
    } finally {
      await h.close();
    }
  });

  it('413 for a body over the limit (declared or streamed), before any work', async () => {
    const big = { instances: Array.from({ length: 400 }, (_, i) => ({ origin: 'ORD', destination: 'LAX', hour: i % 24, note_padding_field: 'x'.repeat(40) })) };
    const r = await post(http.url, big);
    expect(r.status).toBe(413);
    expect(r.json.error).toBe('PAYLOAD_TOO_LARGE');
  });

  it('401 without the API key or with a wrong one (any length); the right key passes', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { 'x-api-key': 'x'.repeat(500) }, { authorization: `Bearer ${API_KEY}x` }] as Record<string, string>[]) {
      const r = await fetch(`${http.url}/predict`, { method: 'POST', headers, body: JSON.stringify({ instances: [{ hour: 1 }] }) });
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/Bearer/);
    }
    const ok = await fetch(`${http.url}/health`, { headers: { 'x-api-key': API_KEY } });
    expect(ok.status).toBe(200);
  });
});
