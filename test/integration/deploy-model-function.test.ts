import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployModelHandler } from '../../functions/deploy-model/handler.js';
import { handlers } from '../../functions/handlers.js';
import { reconcileDeploymentsHandler } from '../../functions/reconcile-deployments/handler.js';
import { createEndpoint } from '../../shared/adapters/endpoint/index.js';
import { registryOf } from '../../shared/adapters/model-registry/runtime.js';
import { loadConfig } from '../../shared/config/config.js';
import { loadDeliveryConfig } from '../../shared/delivery/config.js';
import { RolloutStore } from '../../shared/delivery/rollout-store.js';
import { SERVING_LOG_TABLE, servingLogTable } from '../../shared/delivery/serving-log-schema.js';
import { provideDelivery } from '../../shared/delivery/runtime.js';
import { catalog, createEvent } from '../../shared/events/catalog.js';
import type { Envelope } from '../../shared/events/envelope.js';
import { createRuntime, type Runtime } from '../../shared/runtime/runtime.js';
import { registerStandinVersion, standinServerCommand } from '../helpers/endpoint-fixtures.js';

/**
 * functions/deploy-model and functions/reconcile-deployments on the embedded runtime, wired as deployed: the
 * registered handlers, the runtime's registry, bus and endpoint (stand-in model servers). The canary policy has no
 * minimum duration and needs one served prediction, so the canary waits until the serving log has one, and the next
 * deployment check decides — no clock needed.
 */
const M = 'flight_delay';
const ctx = () => ({ messageId: '1', signal: new AbortController().signal });

describe('functions/deploy-model and reconcile-deployments on the embedded runtime', () => {
  let dir: string;
  let rt: Runtime;
  const seen: Envelope[] = [];
  const evaluated = (version: string, blessed: boolean) =>
    createEvent('modelEvaluated', { model: M, candidateVersion: version, championVersion: null, blessed, metrics: { auc: 0.66 }, failedChecks: [] }, { source: 'test' });
  const add = async (run: string) => registerStandinVersion(await registryOf(rt), rt.objectStore, rt.config.artifactBucket, M, run, { bias: 0 });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-deploy-fn-'));
    await copyFile(new URL('../../features.yaml', import.meta.url), join(dir, 'features.yaml'));
    rt = await createRuntime(loadConfig({ CTLOOP_MODE: 'embedded', CTLOOP_STATE_DIR: join(dir, 'state'), CTLOOP_FEATURES: join(dir, 'features.yaml') }, dir));
    const config = loadDeliveryConfig(rt.config, { CTLOOP_CANARY_MIN_SECONDS: '0', CTLOOP_CANARY_MIN_PREDICTIONS: '1' });
    const endpoint = await createEndpoint(config.endpoint, { registry: await registryOf(rt), objectStore: rt.objectStore, bucket: rt.config.artifactBucket, command: standinServerCommand });
    provideDelivery(rt, { config, endpoint });
    for (const name of ['deployRequested', 'modelDeployed', 'deploymentRolledBack'] as const) {
      await rt.bus.subscribe({ name: `test-${name}`, topic: catalog[name].topic }, async (e) => {
        seen.push(e);
      });
    }
  });
  afterAll(async () => {
    await rt?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('are the registered handlers', () => {
    expect(handlers['deploy-model']).toBe(deployModelHandler);
    expect(handlers['reconcile-deployments']).toBe(reconcileDeploymentsHandler);
  });

  it('a refused candidate is not deployed', async () => {
    const v = await add('run-refused');
    await deployModelHandler(evaluated(v, false), rt, ctx());
    await rt.bus.drain(10_000);
    expect(seen).toEqual([]);
    expect(await (await import('../../shared/delivery/runtime.js')).deliveryOf(rt).then((d) => d.endpoint.describe(M))).toBeNull();
  });

  it('a blessed first version serves at once; a blessed second one is canaried, then promoted on the deployment check', async () => {
    const v1 = await add('run-1');
    await deployModelHandler(evaluated(v1, true), rt, ctx());
    const v2 = await add('run-2');
    const ev2 = evaluated(v2, true);
    await deployModelHandler(ev2, rt, ctx());
    const store = new RolloutStore(rt.objectStore, rt.config.artifactBucket);
    expect((await store.get(M))!.phase).toBe('canary');
    await deployModelHandler(ev2, rt, ctx()); // a redelivery of the same evaluation starts nothing new
    const check = () => reconcileDeploymentsHandler(createEvent('deploymentCheckRequested', {}, { source: 'cloud-scheduler/ctloop-deployment-checks' }), rt, ctx());
    await check();
    expect((await store.get(M))!.phase).toBe('canary'); // nothing served by the canary yet
    const { candidateDeployedModelId: canary, canaryStartedAt } = (await store.get(M))!;
    await rt.warehouse.createTable(servingLogTable);
    const d = rt.warehouse.dialect;
    await rt.warehouse.execute(`INSERT INTO ${d.table(SERVING_LOG_TABLE)} (request_id, model, version, deployed_model_id, prediction, logged_at)
      SELECT 'r1', ${d.param('m')}, ${d.param('v')}, ${d.param('id')}, 0.5, ${d.param('t')}`, {
      params: { m: { type: 'STRING', value: M }, v: { type: 'STRING', value: v2 }, id: { type: 'STRING', value: canary }, t: { type: 'TIMESTAMP', value: new Date(canaryStartedAt!) } },
    });
    await reconcileDeploymentsHandler(createEvent('deploymentCheckRequested', {}, { source: 'cloud-scheduler/ctloop-deployment-checks' }), rt, ctx());
    expect(await store.get(M)).toBeNull();
    expect((await (await registryOf(rt)).getVersion(M, 'champion'))!.version).toBe(v2);
    await rt.bus.drain(10_000);
    const mine = seen.filter((e) => e.correlationId === ev2.correlationId);
    expect(mine.map((e) => e.type)).toEqual(['ctloop.deploy.requested.v1', 'ctloop.model.deployed.v1', 'ctloop.model.deployed.v1']);
    expect(mine[0]!.causationId).toBe(ev2.id);
    // The same evaluation delivered again after its rollout finished: nothing is redeployed, nothing republished.
    await deployModelHandler(ev2, rt, ctx());
    await rt.bus.drain(10_000);
    expect(seen.filter((e) => e.correlationId === ev2.correlationId)).toHaveLength(3);
    expect(await store.get(M)).toBeNull();
  });
});
