import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryEventBus } from '../../shared/adapters/event-bus/memory/memory-bus.js';
import { createEndpoint } from '../../shared/adapters/endpoint/index.js';
import { createModelRegistry } from '../../shared/adapters/model-registry/index.js';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { createDuckDbWarehouse } from '../../shared/adapters/warehouse/duckdb/index.js';
import type { CanaryPolicy } from '../../shared/delivery/config.js';
import type { DeliveryDeps } from '../../shared/delivery/rollout.js';
import { SERVING_LOG_TABLE, servingLogTable } from '../../shared/delivery/serving-log-schema.js';
import { CtloopError } from '../../shared/errors.js';
import { catalog } from '../../shared/events/catalog.js';
import type { Envelope } from '../../shared/events/envelope.js';
import type { Row } from '../../shared/ports/warehouse.js';
import { registerStandinVersion, standinServerCommand, type StandinModel } from './endpoint-fixtures.js';

/**
 * Everything a delivery test needs on the embedded default: DuckDB, local objects, the embedded registry, the
 * embedded endpoint running stand-in model servers, the memory bus with every delivery event recorded, an
 * injected clock, and a traffic generator that predicts through the endpoint and writes the serving log as the
 * `/predict` API does (one row per instance: request id, prediction, deployed model, time, latency, error).
 */
export const BUCKET = 'ctloop-artifacts';
export const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
/** The feature values traffic carries; test predictions of a model are its predictions on the same values. */
export const xs = Array.from({ length: 200 }, (_, i) => ((i * 37) % 200) / 50 - 2);

export const testPolicy: CanaryPolicy = {
  percent: 10, minSeconds: 600, minPredictions: 40, maxSeconds: 3600, maxErrorRateDelta: 0.02, maxLatencyRatio: 1.5, driftMethod: 'psi', driftThreshold: 0.2,
};

export async function deliveryHarness(policy: CanaryPolicy = testPolicy) {
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-delivery-'));
  const warehouse = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb') });
  const objectStore = new LocalObjectStore(join(dir, 'objects'));
  const registry = await createModelRegistry({ kind: 'embedded' }, { warehouse, objectStore, bucket: BUCKET });
  const endpoint = await createEndpoint({ kind: 'embedded', dir: join(dir, 'endpoints') }, {
    registry, objectStore, bucket: BUCKET, command: standinServerCommand, supervisor: { healthTimeoutMs: 2000, maxRestarts: 1 },
  });
  const bus = new MemoryEventBus({ journalDir: join(dir, 'bus'), retry: { maxDeliveryAttempts: 5, minBackoffMs: 10, maxBackoffMs: 100 } });
  const events: Envelope[] = [];
  for (const name of ['deployRequested', 'modelDeployed', 'deploymentRolledBack'] as const) {
    await bus.subscribe({ name: `record-${name}`, topic: catalog[name].topic }, async (e) => {
      events.push(e);
    });
  }
  await warehouse.createTable(servingLogTable);
  const clock = { now: new Date('2026-03-01T08:00:00Z') };
  const deps: DeliveryDeps = { endpoint, registry, warehouse, objectStore, bucket: BUCKET, bus, policy, now: () => clock.now, source: 'test/delivery' };
  let run = 0;
  let req = 0;
  return {
    dir, deps, clock, events, endpoint, registry, warehouse, bus,
    /** Register a stand-in version; its test predictions are its own predictions on `xs` unless given. */
    async add(model: string, spec: StandinModel, testPredictions?: number[]) {
      const w = spec.weights?.x ?? 0;
      return registerStandinVersion(registry, objectStore, BUCKET, model, `run-${++run}`, spec, testPredictions ?? xs.map((x) => sigmoid((spec.bias ?? 0) + w * x)));
    },
    /** Send `n` single-instance requests through the endpoint and log them at the clock's time. */
    async traffic(model: string, n: number) {
      const rows: Row[] = [];
      for (let i = 0; i < n; i++) {
        const requestId = `req-${++req}`;
        const x = xs[req % xs.length]!;
        try {
          const p = await endpoint.predict(model, [{ x }], { requestId });
          rows.push({ request_id: requestId, model, version: p.version, deployed_model_id: p.deployedModelId, prediction: p.predictions[0]!, features: JSON.stringify({ x }), logged_at: clock.now, latency_ms: 2, error: null });
        } catch (err) {
          const d = err instanceof CtloopError ? (err.details ?? {}) : {};
          rows.push({ request_id: requestId, model, version: String(d.version ?? ''), deployed_model_id: String(d.deployedModelId ?? ''), prediction: null, features: JSON.stringify({ x }), logged_at: clock.now, latency_ms: 2, error: (err as Error).message });
        }
      }
      await warehouse.withRows(servingLogTable.columns, rows, (rel) =>
        warehouse.execute(`INSERT INTO ${warehouse.dialect.table(SERVING_LOG_TABLE)} SELECT * FROM ${rel.sql}`, { params: rel.params }));
      return rows;
    },
    advance(seconds: number) {
      clock.now = new Date(clock.now.getTime() + seconds * 1000);
    },
    async close() {
      await endpoint.close();
      await bus.close();
      await warehouse.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
