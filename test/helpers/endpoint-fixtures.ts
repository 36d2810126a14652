import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerCommand } from '../../shared/adapters/endpoint/embedded/supervisor.js';
import type { ModelRegistry } from '../../shared/ports/model-registry.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';

/** The stand-in model server (test/helpers/standin-model-server.mjs) run with this Node, same AIP_* contract. */
export const standinServerCommand: ServerCommand = {
  command: [process.execPath, join(fileURLToPath(new URL('.', import.meta.url)), 'standin-model-server.mjs')],
  env: (modelDir, port) => ({ AIP_HTTP_PORT: String(port), AIP_HEALTH_ROUTE: '/health', AIP_PREDICT_ROUTE: '/predict', AIP_STORAGE_URI: modelDir }),
};

export interface StandinModel {
  bias: number;
  weights?: Record<string, number>;
  failHealth?: boolean;
  /** Health answers 503 while this file exists. */
  failHealthIf?: string;
  crashOnPredict?: number;
  errorEvery?: number;
}

/**
 * Register a version whose artifacts (standin.json + predictions.csv: the "test predictions" a trainer writes) are
 * in the object store under gs://<bucket>/training/<runId>/model/. Returns the version number.
 */
export async function registerStandinVersion(
  registry: ModelRegistry, objectStore: ObjectStore, bucket: string, model: string, runId: string, spec: StandinModel,
  testPredictions: number[] = [], aliases: string[] = [],
): Promise<string> {
  const base = `gs://${bucket}/training/${runId}/model/`;
  await objectStore.put(`${base}standin.json`, JSON.stringify(spec), { contentType: 'application/json' });
  await objectStore.put(`${base}predictions.csv`, `row_id,label,score\n${testPredictions.map((p, i) => `r${i},${i % 2},${p}`).join('\n')}\n`, { contentType: 'text/csv' });
  const { version } = await registry.registerVersion({
    model, runId, artifactUri: base, metrics: { auc: 0.65 }, blessed: true, evaluation: { blessed: true }, baselineProfileUri: null,
    lineage: { runId, dataUris: {}, trigger: null }, aliases, servingImage: 'standin',
  });
  return version.version;
}
