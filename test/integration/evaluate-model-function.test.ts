import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryOf } from '../../shared/adapters/model-registry/runtime.js';
import { loadConfig } from '../../shared/config/config.js';
import { ValidationError } from '../../shared/errors.js';
import { catalog, createEvent, parseEventOf } from '../../shared/events/catalog.js';
import type { Envelope } from '../../shared/events/envelope.js';
import { createRuntime, type Runtime } from '../../shared/runtime/runtime.js';
import { evaluateModelHandler } from '../../functions/evaluate-model/handler.js';
import { handlers } from '../../functions/handlers.js';

/** The function as deployed: configuration from models.yaml beside features.yaml, the configured registry, the bus. */
const MODELS = `models:
  - name: flight_delay
    featureService: delay_model
    spine: { view: flights, label: delayed, keys: { airport: origin } }
    trainer: { image: "\${region}-docker.pkg.dev/\${project}/ctloop/flight-delay:1", command: [python3, train.py] }
    split: { train: 90d, validation: 14d, test: 30d }
    slices: [origin]
    minSliceSize: 20
    gate:
      thresholds: { auc: { min: 0.55 } }
      requiredSlices: [{ origin: SFO }]
`;

describe('functions/evaluate-model on the embedded runtime', () => {
  let dir: string;
  let rt: Runtime;
  const seen: Envelope[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-evaluate-fn-'));
    await copyFile(new URL('../../features.yaml', import.meta.url), join(dir, 'features.yaml'));
    await writeFile(join(dir, 'models.yaml'), MODELS);
    rt = await createRuntime(loadConfig({ CTLOOP_MODE: 'embedded', CTLOOP_STATE_DIR: join(dir, 'state'), CTLOOP_FEATURES: join(dir, 'features.yaml') }, dir));
    await rt.bus.subscribe({ name: 'test-evaluations', topic: catalog.modelEvaluated.topic }, async (e) => {
      seen.push(e);
    });
  });
  afterAll(async () => {
    await rt?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is the registered handler and publishes model.evaluated for a successful run', async () => {
    expect(handlers['evaluate-model']).toBe(evaluateModelHandler);
    const rows = ['row_id,label,score,origin', ...Array.from({ length: 40 }, (_, i) => `r${i},${i % 2},${i % 2 ? 0.8 : 0.2},${i < 20 ? 'SFO' : 'LAX'}`)];
    await rt.objectStore.put('gs://ctloop-artifacts/training/run-9/model/predictions.csv', rows.join('\n'));
    const ev = createEvent('trainingCompleted', { model: 'flight_delay', jobId: 'local-9', runId: 'run-9', state: 'SUCCEEDED', modelUri: 'gs://ctloop-artifacts/training/run-9/model/', trigger: 'manual' }, { source: 'test' });
    await evaluateModelHandler(ev, rt, { messageId: '1', signal: new AbortController().signal });
    await rt.bus.drain(10_000);
    expect(seen).toHaveLength(1);
    expect(parseEventOf('modelEvaluated', seen[0]).data).toMatchObject({ model: 'flight_delay', candidateVersion: '1', blessed: true, failedChecks: [], runId: 'run-9' });
    const v = (await (await registryOf(rt)).getVersion('flight_delay', 'champion'))!;
    expect(v.servingImage).toBe('us-central1-docker.pkg.dev/ctloop-local/ctloop/flight-delay:1');
  });

  it('rejects a gate typo in models.yaml naming the closest key', async () => {
    await writeFile(join(dir, 'models.yaml'), MODELS.replace('requiredSlices', 'requiredSlice'));
    await rt.objectStore.put('gs://ctloop-artifacts/training/run-10/model/predictions.csv', 'row_id,label,score,origin\na,1,0.9,SFO\n');
    const ev = createEvent('trainingCompleted', { model: 'flight_delay', jobId: 'local-10', runId: 'run-10', state: 'SUCCEEDED', modelUri: 'gs://ctloop-artifacts/training/run-10/model/' }, { source: 'test' });
    const err = await evaluateModelHandler(ev, rt, { messageId: '2', signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toMatch(/unknown key "requiredSlice" \(did you mean "requiredSlices"\?\)/);
    expect((err as Error).message).toMatch(/gate/);
  });
});
