import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helpers, v1 } from '@google-cloud/aiplatform';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelRegistry } from '../../shared/adapters/model-registry/index.js';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import type { ModelRegistry } from '../../shared/ports/model-registry.js';
import { startVertexModelStandin, type VertexModelStandin } from '../helpers/vertex-model-standin.js';
import { request, runModelRegistryContract } from './model-registry.contract.js';

runModelRegistryContract('Vertex AI Model Registry (gRPC stand-in from the aiplatform protos)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ctloop-vertex-registry-'));
  const standin = await startVertexModelStandin();
  const objectStore = new LocalObjectStore(join(dir, 'objects'));
  const registry = await createModelRegistry(
    { kind: 'vertex', project: 'ctloop-test', region: 'us-central1', apiEndpoint: `${standin.address}:${standin.port}` },
    { warehouse: undefined as never, objectStore, bucket: 'ctloop-artifacts' },
  );
  return {
    registry, objectStore,
    async close() {
      await standin.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('Vertex AI registry: requests on the wire', () => {
  let standin: VertexModelStandin;
  let registry: ModelRegistry;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-vertex-wire-'));
    standin = await startVertexModelStandin();
    registry = await createModelRegistry(
      { kind: 'vertex', project: 'ctloop-test', region: 'europe-west4', apiEndpoint: `${standin.address}:${standin.port}` },
      { warehouse: undefined as never, objectStore: new LocalObjectStore(join(dir, 'objects')), bucket: 'ctloop-artifacts' },
    );
  });
  afterAll(async () => {
    await standin?.close();
    await rm(dir, { recursive: true, force: true });
  });
  const uploads = () => standin.calls.filter((c) => c.method === 'uploadModel').map((c) => c.request);

  it('uploads the first version with modelId and default, later ones with parentModel, driving the long-running operation', async () => {
    standin.pollsBeforeDone = 3;
    await registry.registerVersion(request('run-1', { aliases: ['challenger', 'champion'] }));
    await registry.registerVersion(request('run-2', { blessed: false, metrics: { auc: 0.6 } }));
    const [first, second] = uploads();
    expect(first).toMatchObject({
      parent: 'projects/ctloop-test/locations/europe-west4', modelId: 'flight_delay',
      model: {
        displayName: 'flight_delay', artifactUri: 'gs://ctloop-artifacts/training/run-1/model/',
        containerSpec: { imageUri: 'us-central1-docker.pkg.dev/p/ctloop/flight-delay:1' },
        versionAliases: ['challenger', 'champion', 'default'],
        labels: { ctloop_model: 'flight_delay', ctloop_run_id: 'run-1', ctloop_blessed: 'true' },
      },
    });
    expect(first!.parentModel).toBeUndefined();
    expect(second).toMatchObject({
      parent: 'projects/ctloop-test/locations/europe-west4', parentModel: 'projects/ctloop-test/locations/europe-west4/models/flight_delay',
      model: { versionAliases: ['challenger'], labels: { ctloop_blessed: 'false' } },
    });
    expect(second!.modelId).toBeUndefined();
    // the record travels in the metadata struct, as protobuf Values
    const meta = (second!.model as { metadata: { structValue: { fields: { ctloop: { structValue: { fields: Record<string, unknown> } } } } } }).metadata;
    expect(meta.structValue.fields.ctloop.structValue.fields.runId).toMatchObject({ stringValue: 'run-2' });
    expect(standin.calls.filter((c) => c.method === 'getOperation')).toHaveLength(6);
    // each upload was polled until its operation completed; the stand-in created the version only then
    const versions = standin.models.get('projects/ctloop-test/locations/europe-west4/models/flight_delay')!;
    expect(versions.map((v) => [v.versionId, [...v.aliases].sort()])).toEqual([['1', ['champion', 'default']], ['2', ['challenger']]]);
  });

  it('moves default with champion through mergeVersionAliases, and removes with a "-" prefix', async () => {
    await registry.setAliases('flight_delay', '2', ['champion']);
    await registry.removeAliases('flight_delay', '2', ['challenger']);
    const merges = standin.calls.filter((c) => c.method === 'mergeVersionAliases').map((c) => c.request);
    expect(merges).toEqual([
      { name: 'projects/ctloop-test/locations/europe-west4/models/flight_delay@2', versionAliases: ['champion', 'default'] },
      { name: 'projects/ctloop-test/locations/europe-west4/models/flight_delay@2', versionAliases: ['-challenger'] },
    ]);
    expect((await registry.getVersion('flight_delay', 'champion'))!.version).toBe('2');
  });

  it('turns a failed upload operation into an error and registers nothing', async () => {
    standin.failNextUpload(9, 'artifact_uri has no model.bst');
    await expect(registry.registerVersion(request('run-3'))).rejects.toMatchObject({ code: 'BACKEND_REJECTED', message: expect.stringMatching(/artifact_uri has no model\.bst/) });
    expect(await registry.findByRun('flight_delay', 'run-3')).toBeNull();
  });

  it('needs a serving image', async () => {
    await expect(registry.registerVersion(request('run-4', { servingImage: null }))).rejects.toThrow(/no serving container image/);
  });
});

describe('Vertex AI registry: an upload interrupted by a crash', () => {
  it('resumes the running upload operation on retry instead of uploading the run twice', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ctloop-vertex-resume-'));
    const standin = await startVertexModelStandin();
    try {
      const objectStore = new LocalObjectStore(join(dir, 'objects'));
      const config = { kind: 'vertex' as const, project: 'ctloop-test', region: 'us-central1', apiEndpoint: `${standin.address}:${standin.port}` };
      const registry = await createModelRegistry(config, { warehouse: undefined as never, objectStore, bucket: 'ctloop-artifacts' });
      await registry.registerVersion(request('run-1'));
      // A previous attempt for run-2 got as far as Vertex accepting the upload and recording its operation, then died.
      const client = new v1.ModelServiceClient({ apiEndpoint: standin.address, port: standin.port, sslCreds: grpc.credentials.createInsecure() });
      const first = standin.calls.find((c) => c.method === 'uploadModel')!.request as { model: Record<string, unknown> };
      const [op] = await client.uploadModel({
        parent: 'projects/ctloop-test/locations/us-central1', parentModel: 'projects/ctloop-test/locations/us-central1/models/flight_delay',
        model: { ...first.model, metadata: helpers.toValue({ ctloop: { runId: 'run-2', blessed: true, metrics: {}, evaluationUri: null, baselineProfileUri: null, lineage: request('run-2').lineage } }) as never, versionAliases: ['challenger'] },
      });
      await objectStore.put('gs://ctloop-artifacts/models/flight_delay/runs/run-2/vertex-upload-operation.json', JSON.stringify({ operation: op.name }));
      await client.close();
      const uploadsBefore = standin.calls.filter((c) => c.method === 'uploadModel').length;

      const { version, created } = await registry.registerVersion(request('run-2'));
      expect(created).toBe(true);
      expect(version).toMatchObject({ version: '2', runId: 'run-2', aliases: ['challenger'] });
      expect(standin.calls.filter((c) => c.method === 'uploadModel')).toHaveLength(uploadsBefore);
      expect((await registry.listVersions('flight_delay')).map((v) => v.runId)).toEqual(['run-1', 'run-2']);
    } finally {
      await standin.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
