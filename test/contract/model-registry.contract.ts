import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.js';
import type { ModelRegistry, RegisterVersionRequest } from '../../shared/ports/model-registry.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';

/** The ModelRegistry contract: run against the embedded adapter and the Vertex AI adapter (gRPC stand-in). */
export interface RegistryTarget {
  registry: ModelRegistry;
  objectStore: ObjectStore;
  close(): Promise<void>;
}

export function request(runId: string, over: Partial<RegisterVersionRequest> = {}): RegisterVersionRequest {
  return {
    model: 'flight_delay', runId, artifactUri: `gs://ctloop-artifacts/training/${runId}/model/`,
    metrics: { auc: 0.648, log_loss: 0.459 }, blessed: true, evaluation: { blessed: true, checks: [{ check: 'threshold.auc.min', status: 'passed' }] },
    baselineProfileUri: `gs://ctloop-artifacts/training/${runId}/model/baseline_profile.json`,
    lineage: {
      runId, jobId: `job-${runId}`, dataUris: { train: `gs://ctloop-artifacts/training/${runId}/data/train.csv`, test: `gs://ctloop-artifacts/training/${runId}/data/test.csv` },
      trigger: { reason: 'drift', driftReportId: 'drift-42', requestId: 'req-1' },
    },
    aliases: ['challenger'], servingImage: 'us-central1-docker.pkg.dev/p/ctloop/flight-delay:1', ...over,
  };
}

export function runModelRegistryContract(label: string, make: () => Promise<RegistryTarget>): void {
  describe(`ModelRegistry contract: ${label}`, () => {
    let t: RegistryTarget;
    beforeAll(async () => {
      t = await make();
    });
    afterAll(async () => {
      await t?.close();
    });

    it('registers a first version with its metrics, lineage, evaluation report and aliases', async () => {
      const { version, created } = await t.registry.registerVersion(request('run-a', { aliases: ['challenger', 'champion'] }));
      expect(created).toBe(true);
      expect(version).toMatchObject({
        model: 'flight_delay', version: '1', runId: 'run-a', blessed: true, aliases: ['challenger', 'champion'],
        metrics: { auc: 0.648, log_loss: 0.459 }, artifactUri: 'gs://ctloop-artifacts/training/run-a/model/',
        baselineProfileUri: 'gs://ctloop-artifacts/training/run-a/model/baseline_profile.json',
        lineage: request('run-a').lineage,
      });
      expect(Number.isNaN(Date.parse(version.createdAt))).toBe(false);
      const report = JSON.parse((await t.objectStore.get(version.evaluationUri!)).toString('utf8')) as { blessed: boolean };
      expect(report.blessed).toBe(true);
    });

    it('registers the same run once', async () => {
      const again = await t.registry.registerVersion(request('run-a', { aliases: ['challenger'] }));
      expect(again.created).toBe(false);
      expect(again.version.version).toBe('1');
      expect((await t.registry.listVersions('flight_delay')).map((v) => v.version)).toEqual(['1']);
    });

    it('numbers later versions and moves an alias to the version that takes it', async () => {
      const { version } = await t.registry.registerVersion(request('run-b', { blessed: false, metrics: { auc: 0.61 } }));
      expect(version).toMatchObject({ version: '2', aliases: ['challenger'], blessed: false, metrics: { auc: 0.61 } });
      expect((await t.registry.getVersion('flight_delay', '1'))!.aliases).toEqual(['champion']);
      expect((await t.registry.getVersion('flight_delay', 'challenger'))!.runId).toBe('run-b');
      expect((await t.registry.getVersion('flight_delay', 'champion'))!.runId).toBe('run-a');
      expect((await t.registry.findByRun('flight_delay', 'run-b'))!.version).toBe('2');
    });

    it('sets and removes aliases, one holder per alias', async () => {
      expect((await t.registry.setAliases('flight_delay', '2', ['champion'])).aliases).toEqual(['challenger', 'champion']);
      expect((await t.registry.getVersion('flight_delay', '1'))!.aliases).toEqual([]);
      expect((await t.registry.removeAliases('flight_delay', '2', ['challenger'])).aliases).toEqual(['champion']);
      expect(await t.registry.getVersion('flight_delay', 'challenger')).toBeNull();
    });

    it('answers null for what does not exist and lists every model', async () => {
      expect(await t.registry.getVersion('flight_delay', '9')).toBeNull();
      expect(await t.registry.getVersion('no_such_model', 'champion')).toBeNull();
      expect(await t.registry.findByRun('flight_delay', 'run-zzz')).toBeNull();
      await t.registry.registerVersion(request('run-c', { model: 'other_model' }));
      const all = await t.registry.listVersions();
      expect(all.map((v) => `${v.model}@${v.version}`)).toEqual(['flight_delay@1', 'flight_delay@2', 'other_model@1']);
    });

    it('refuses aliases Vertex AI would refuse, and "default" (the registry manages it)', async () => {
      await expect(t.registry.setAliases('flight_delay', '1', ['Champion'])).rejects.toBeInstanceOf(ValidationError);
      await expect(t.registry.setAliases('flight_delay', '1', ['default'])).rejects.toBeInstanceOf(ValidationError);
      await expect(t.registry.registerVersion(request('run-d', { aliases: ['x'] }))).rejects.toBeInstanceOf(ValidationError);
    });
  });
}
