import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { registryOf } from '../../shared/adapters/model-registry/runtime.js';
import { loadConfig } from '../../shared/config/config.js';
import { parseFeatureRepo, type FeatureRepoInput } from '../../shared/features/definitions.js';
import { createRuntime } from '../../shared/runtime/runtime.js';

/** Two views (route, airport) and the service the small test model (xgb-model.ts) reads. */
export const servingRepoInput: FeatureRepoInput = {
  entities: [
    { name: 'route', joinKeys: [{ name: 'origin', type: 'STRING' }, { name: 'destination', type: 'STRING' }] },
    { name: 'airport', joinKeys: [{ name: 'airport', type: 'STRING' }] },
    { name: 'flight', joinKeys: [{ name: 'flight_id', type: 'STRING' }] },
  ],
  featureViews: [
    { name: 'route_daily', entity: 'route', timestampField: 'event_timestamp', ttl: '7d', features: [{ name: 'route_avg_delay', type: 'FLOAT64' }] },
    { name: 'airport_daily', entity: 'airport', timestampField: 'event_timestamp', ttl: '2d', features: [{ name: 'airport_delayed_share', type: 'FLOAT64' }] },
    // The labelled spine models.yaml names (training reads it; serving only needs the model's definition to be valid).
    { name: 'flights', entity: 'flight', timestampField: 'event_timestamp', ttl: '0s', features: [
      { name: 'origin', type: 'STRING' }, { name: 'destination', type: 'STRING' }, { name: 'delayed', type: 'INT64' },
    ] },
  ],
  featureServices: [{ name: 'delay_model', features: ['route_daily:route_avg_delay', 'airport_daily:airport_delayed_share'] }],
};
export const servingRepo = () => parseFeatureRepo(servingRepoInput);
export const servedSpec = { name: 'flight_delay', featureService: 'delay_model', keys: { airport: 'origin' } };

/**
 * A state directory for CLI tests: features.yaml and models.yaml (flight_delay on delay_model, airport ← origin),
 * online rows written at `at`, and `modelDir` registered as flight_delay@1 (champion). Returns the CLI's env.
 */
export async function servingState(dir: string, modelDir: string, at = new Date()): Promise<NodeJS.ProcessEnv> {
  writeFileSync(join(dir, 'features.yaml'), stringify(servingRepoInput));
  writeFileSync(join(dir, 'models.yaml'), stringify({ models: [{ name: 'flight_delay', featureService: 'delay_model', spine: { view: 'flights', label: 'delayed', keys: { airport: 'origin' } }, trainer: { command: ['/usr/bin/python3', 'trainers/flight-delay/train.py'] }, split: { train: '90d', validation: '14d', test: '30d' } }] }));
  const env = { ...process.env, CTLOOP_STATE_DIR: join(dir, 'state'), CTLOOP_FEATURES: join(dir, 'features.yaml'), CTLOOP_MODE: 'embedded', METADATA_SERVER_DETECTION: 'none' };
  const rt = await createRuntime(loadConfig(env));
  try {
    await rt.online.write(rt.repo.view('route_daily'), [{ key: ['ORD', 'LAX'], eventTime: at, createdTime: at, ingestId: 'a', values: { route_avg_delay: 21.5 } }]);
    await rt.online.write(rt.repo.view('airport_daily'), [{ key: ['ORD'], eventTime: at, createdTime: at, ingestId: 'a', values: { airport_delayed_share: 0.41 } }]);
    // As the loop registers them: the artifacts in the object store (gs:// also on the embedded default).
    const artifactUri = 'gs://ctloop-artifacts/training/flight_delay/run-1/model/';
    for (const f of readdirSync(modelDir)) await rt.objectStore.upload(join(modelDir, f), `${artifactUri}${f}`);
    await (await registryOf(rt)).registerVersion({
      model: 'flight_delay', runId: 'run-1', artifactUri, metrics: { auc: 0.7 }, blessed: true, evaluation: {}, baselineProfileUri: null,
      lineage: { runId: 'run-1', dataUris: {}, trigger: { reason: 'manual' } }, aliases: ['champion'],
    });
  } finally {
    await rt.close();
  }
  return env;
}
