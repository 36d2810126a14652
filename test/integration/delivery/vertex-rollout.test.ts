import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryEventBus } from '../../../shared/adapters/event-bus/memory/memory-bus.js';
import { createEndpoint, type ClosableEndpoint } from '../../../shared/adapters/endpoint/index.js';
import { createModelRegistry } from '../../../shared/adapters/model-registry/index.js';
import { LocalObjectStore } from '../../../shared/adapters/object-store/index.js';
import { createDuckDbWarehouse } from '../../../shared/adapters/warehouse/duckdb/index.js';
import { reconcileRollouts, rollbackNow, startRollout, type DeliveryDeps } from '../../../shared/delivery/rollout.js';
import { SERVING_LOG_TABLE, servingLogTable } from '../../../shared/delivery/serving-log-schema.js';
import type { Warehouse } from '../../../shared/ports/warehouse.js';
import { registerStandinVersion } from '../../helpers/endpoint-fixtures.js';
import { sigmoid, testPolicy, xs } from '../../helpers/delivery-harness.js';
import { startVertexEndpointStandin, type VertexEndpointStandin } from '../../helpers/vertex-endpoint-standin.js';

/**
 * The rollout on the Vertex AI adapter (gRPC stand-in): deployModel and undeployModel are long-running, and no
 * invocation waits for them — each tick polls each pending operation once, by the name recorded when it started.
 */
const PARENT = 'projects/ctloop-test/locations/us-central1';
const M = 'flight_delay';

describe('rollout on the Vertex AI endpoint: operations resumed by name across ticks', () => {
  let dir: string;
  let standin: VertexEndpointStandin;
  let endpoint: ClosableEndpoint;
  let warehouse: Warehouse;
  let deps: DeliveryDeps;
  let bus: MemoryEventBus;
  const clock = { now: new Date('2026-03-01T08:00:00Z') };
  let run = 0;
  const add = async (bias: number) => {
    const v = await registerStandinVersion(deps.registry, deps.objectStore, 'ctloop-artifacts', M, `run-${++run}`, { bias, weights: { x: 1 } }, xs.map((x) => sigmoid(bias + x)));
    standin.models.add(`${PARENT}/models/${M}@${v}`);
    return v;
  };
  const opsPolled = (from: number) => standin.calls.slice(from).filter((c) => c.method === 'getOperation').map((c) => String(c.request.name));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-vertex-rollout-'));
    standin = await startVertexEndpointStandin();
    standin.addEndpoint(`${PARENT}/endpoints/4242`);
    standin.pollsBeforeDone = 2;
    warehouse = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb') });
    await warehouse.createTable(servingLogTable);
    const objectStore = new LocalObjectStore(join(dir, 'objects'));
    const registry = await createModelRegistry({ kind: 'embedded' }, { warehouse, objectStore, bucket: 'ctloop-artifacts' });
    endpoint = await createEndpoint(
      { kind: 'vertex', project: 'ctloop-test', region: 'us-central1', apiEndpoint: `${standin.address}:${standin.port}`, endpointId: '4242', machineType: 'n1-standard-2', minReplicas: 1, maxReplicas: 1, serviceAccount: null },
      { registry, objectStore, bucket: 'ctloop-artifacts' },
    );
    bus = new MemoryEventBus({ journalDir: join(dir, 'bus'), retry: { maxDeliveryAttempts: 5, minBackoffMs: 10, maxBackoffMs: 100 } });
    deps = { endpoint, registry, warehouse, objectStore, bucket: 'ctloop-artifacts', bus, policy: testPolicy, now: () => clock.now, source: 'test' };
  });
  afterAll(async () => {
    await endpoint?.close();
    await bus?.close();
    await warehouse?.close();
    await standin?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a first version: deployModel once, then one poll per tick until done, then promoted', async () => {
    const v1 = await add(0);
    const from = standin.calls.length;
    let r = await startRollout(deps, { model: M, version: v1 });
    expect(r.phase).toBe('deploying');
    expect(opsPolled(from)).toEqual([]);
    r = (await reconcileRollouts(deps))[0]!;
    expect(r.phase).toBe('deploying');
    r = (await reconcileRollouts(deps))[0]!;
    expect(r.phase).toBe('promoted');
    const polled = opsPolled(from);
    expect(polled).toHaveLength(2);
    expect(new Set(polled).size).toBe(1);
    expect(standin.calls.slice(from).filter((c) => c.method === 'deployModel')).toHaveLength(1);
    expect((await deps.registry.getVersion(M, 'champion'))!.version).toBe(v1);
  });

  it('a canary: pending deploy, canary period on the serving log, promotion waits for the undeploy operation', async () => {
    const v2 = await add(0.05);
    const champ = (await endpoint.describe(M))!.deployedModels[0]!.deployedModelId;
    const from = standin.calls.length;
    let r = await startRollout(deps, { model: M, version: v2 });
    expect(standin.calls.slice(from).find((c) => c.method === 'deployModel')!.request.trafficSplit).toEqual({ '0': 10, [champ]: 90 });
    r = (await reconcileRollouts(deps))[0]!;
    r = (await reconcileRollouts(deps))[0]!;
    expect(r.phase).toBe('canary');
    const canary = r.candidateDeployedModelId!;
    // The serving log of the period (what /predict writes on GCP): both deployed models, like-for-like predictions.
    const rows = xs.slice(0, 100).flatMap((x, i) => [
      { request_id: `a${i}`, model: M, version: v2, deployed_model_id: canary, prediction: sigmoid(0.05 + x), features: '{}', logged_at: clock.now, latency_ms: 3, error: null },
      { request_id: `b${i}`, model: M, version: '1', deployed_model_id: champ, prediction: sigmoid(x), features: '{}', logged_at: clock.now, latency_ms: 3, error: null },
    ]);
    await warehouse.withRows(servingLogTable.columns, rows, (rel) => warehouse.execute(`INSERT INTO ${warehouse.dialect.table(SERVING_LOG_TABLE)} SELECT * FROM ${rel.sql}`, { params: rel.params }));
    clock.now = new Date(clock.now.getTime() + 601_000);
    r = (await reconcileRollouts(deps))[0]!;
    expect(r.phase).toBe('promoting'); // traffic moved, undeployModel of the old champion started, not awaited
    expect(standin.calls.filter((c) => c.method === 'undeployModel')).toHaveLength(1);
    expect((await endpoint.describe(M))!.trafficSplit).toEqual({ [champ]: 0, [canary]: 100 });
    r = (await reconcileRollouts(deps))[0]!;
    expect(r.phase).toBe('promoting');
    r = (await reconcileRollouts(deps))[0]!;
    expect(r.phase).toBe('promoted');
    expect(standin.calls.filter((c) => c.method === 'undeployModel')).toHaveLength(1);
    expect((await endpoint.describe(M))!.trafficSplit).toEqual({ [canary]: 100 });
    expect((await deps.registry.getVersion(M, 'champion'))!.version).toBe(v2);
  });

  it('a rollback while the deployment is still running resumes that operation and undeploys what it deployed', async () => {
    const v4 = await add(0);
    const before = (await endpoint.describe(M))!.trafficSplit;
    let r = await startRollout(deps, { model: M, version: v4 });
    expect(r.phase).toBe('deploying');
    r = await rollbackNow(deps, M); // the operation polls once: not done yet
    expect(r.phase).toBe('rolling_back');
    r = (await reconcileRollouts(deps))[0]!; // done: the canary is undeployed (another operation)
    expect(r.candidateDeployedModelId).not.toBeNull();
    while (r.phase !== 'rolled_back') r = (await reconcileRollouts(deps))[0]!;
    expect((await endpoint.describe(M))!.trafficSplit).toEqual(before);
    expect(standin.calls.filter((c) => c.method === 'deployModel' && (c.request.deployedModel as { model: string }).model.endsWith(`@${v4}`))).toHaveLength(1);
  });

  it('a deployment Vertex AI fails (container never healthy) is rolled back; the champion keeps all traffic', async () => {
    const v3 = await add(0);
    const before = (await endpoint.describe(M))!.trafficSplit;
    standin.failNextDeploy('Model server never became ready.');
    let r = await startRollout(deps, { model: M, version: v3 });
    r = (await reconcileRollouts(deps))[0]!;
    r = (await reconcileRollouts(deps))[0]!;
    expect(r.phase).toBe('rolled_back');
    expect(r.reason).toMatch(/Model server never became ready/);
    expect((await endpoint.describe(M))!.trafficSplit).toEqual(before);
  });
});
