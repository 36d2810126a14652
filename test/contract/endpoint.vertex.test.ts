import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEndpoint, type ClosableEndpoint } from '../../shared/adapters/endpoint/index.js';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { BackendError } from '../../shared/errors.js';
import { OperationPendingError } from '../../shared/ports/endpoint.js';
import { startVertexEndpointStandin, type VertexEndpointStandin } from '../helpers/vertex-endpoint-standin.js';
import { runEndpointContract, settle } from './endpoint.contract.js';

const PROJECT = 'ctloop-test';
const REGION = 'us-central1';
const PARENT = `projects/${PROJECT}/locations/${REGION}`;
const ENDPOINT = `${PARENT}/endpoints/4242`;

async function vertex() {
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-vertex-endpoint-'));
  const standin = await startVertexEndpointStandin();
  standin.addEndpoint(ENDPOINT);
  const objectStore = new LocalObjectStore(join(dir, 'objects'));
  const endpoint = await createEndpoint(
    { kind: 'vertex', project: PROJECT, region: REGION, apiEndpoint: `${standin.address}:${standin.port}`, endpointId: '4242', machineType: 'n1-standard-2', minReplicas: 1, maxReplicas: 2, serviceAccount: 'ctloop-server@ctloop-test.iam.gserviceaccount.com' },
    { registry: undefined as never, objectStore, bucket: 'ctloop-artifacts' },
  );
  const biases = new Map<string, number>();
  standin.predictor = (model, instances) => instances.map(() => 1 / (1 + Math.exp(-(biases.get(model) ?? 0))));
  const versions = new Map<string, number>();
  return {
    standin, endpoint, objectStore,
    async addVersion(model: string, bias: number) {
      const v = String((versions.get(model) ?? 0) + 1);
      versions.set(model, Number(v));
      standin.models.add(`${PARENT}/models/${model}@${v}`);
      biases.set(`${PARENT}/models/${model}@${v}`, bias);
      return v;
    },
    async close() {
      await endpoint.close();
      await standin.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

runEndpointContract('Vertex AI endpoint (gRPC stand-in from the aiplatform protos)', async () => {
  const v = await vertex();
  return { endpoint: v.endpoint, addVersion: (m, b) => v.addVersion(m, b), close: v.close };
});

describe('Vertex AI endpoint: requests on the wire and operations resumed by name', () => {
  let v: Awaited<ReturnType<typeof vertex>>;
  let endpoint: ClosableEndpoint;
  let standin: VertexEndpointStandin;
  beforeAll(async () => {
    v = await vertex();
    ({ endpoint, standin } = v);
  });
  afterAll(async () => {
    await v?.close();
  });

  it('deployModel names the version, its resources and a split where "0" is the new model; the call does not wait', async () => {
    const v1 = await v.addVersion('m', 0);
    const v2 = await v.addVersion('m', 1);
    const first = await settle(() => endpoint.deploy('m', v1, { trafficPercent: 10 }));
    standin.pollsBeforeDone = 3;
    const before = standin.calls.length;
    const pending = await endpoint.deploy('m', v2, { trafficPercent: 10 }).catch((e: unknown) => e);
    expect(pending).toBeInstanceOf(OperationPendingError);
    const deploys = standin.calls.slice(before).filter((c) => c.method === 'deployModel');
    expect(deploys).toHaveLength(1);
    expect(deploys[0]!.request).toMatchObject({
      endpoint: ENDPOINT,
      deployedModel: {
        model: `${PARENT}/models/m@${v2}`,
        dedicatedResources: { machineSpec: { machineType: 'n1-standard-2' }, minReplicaCount: 1, maxReplicaCount: 2 },
        serviceAccount: 'ctloop-server@ctloop-test.iam.gserviceaccount.com',
      },
      trafficSplit: { '0': 10, [first.deployedModelId]: 90 },
    });
    // Later invocations resume the same operation by name (GetOperation), never deploying twice.
    const second = await settle(() => endpoint.deploy('m', v2, { trafficPercent: 10 }));
    const ops = standin.calls.slice(before).filter((c) => c.method === 'getOperation').map((c) => c.request.name);
    expect(new Set(ops)).toEqual(new Set([(pending as OperationPendingError).operation]));
    expect(standin.calls.slice(before).filter((c) => c.method === 'deployModel')).toHaveLength(1);
    expect((await endpoint.describe('m'))!.trafficSplit).toEqual({ [first.deployedModelId]: 90, [second.deployedModelId]: 10 });
    standin.pollsBeforeDone = 1;
  });

  it('setTraffic is updateEndpoint with update_mask traffic_split', async () => {
    const s = (await endpoint.describe('m'))!;
    const [a, b] = s.deployedModels.map((d) => d.deployedModelId);
    await endpoint.setTraffic('m', { [a!]: 0, [b!]: 100 });
    const call = standin.calls.filter((c) => c.method === 'updateEndpoint').at(-1)!;
    expect(call.request).toMatchObject({ endpoint: { name: ENDPOINT, trafficSplit: { [a!]: 0, [b!]: 100 } }, updateMask: { paths: ['traffic_split'] } });
  });

  it('rawPredict carries {"instances": [...]} as a JSON HttpBody', async () => {
    const p = await endpoint.predict('m', [{ dep_hour: 7 }]);
    const call = standin.calls.filter((c) => c.method === 'rawPredict').at(-1)!;
    const body = call.request.httpBody as { contentType: string; data: Buffer };
    expect(body.contentType).toBe('application/json');
    expect(JSON.parse(Buffer.from(body.data).toString('utf8'))).toEqual({ instances: [{ dep_hour: 7 }] });
    expect(p.version).toBe('2');
  });

  it('a deployment whose operation fails (container never healthy) is a BackendError and leaves the split as it was', async () => {
    const v3 = await v.addVersion('m', 3);
    const before = (await endpoint.describe('m'))!.trafficSplit;
    standin.failNextDeploy('Model server never became ready. Please validate that your model file or container configuration are valid.');
    await expect(settle(() => endpoint.deploy('m', v3, { trafficPercent: 10 }))).rejects.toBeInstanceOf(BackendError);
    expect((await endpoint.describe('m'))!.trafficSplit).toEqual(before);
  });
});
