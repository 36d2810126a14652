import { readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModelServer, type ModelServerProcess } from '../../../shared/serving/model-server-process.js';
import { modelServerCommand } from '../../../shared/serving/server-command.js';
import { TransientError, ValidationError } from '../../../shared/errors.js';
import { trainSmallModel, xgboostSkipReason, type TrainedModel } from '../../helpers/xgb-model.js';

const skip = xgboostSkipReason();
if (skip) console.warn(`skipping model server tests: ${skip}`);

function get(url: string): Promise<number> {
  return new Promise((res, rej) => request(url, (r) => { r.resume(); res(r.statusCode ?? 0); }).on('error', rej).end());
}

describe.skipIf(Boolean(skip))('model server (server/server.py, Vertex AI custom serving contract)', () => {
  let model: TrainedModel;
  let server: ModelServerProcess;
  beforeAll(async () => {
    model = trainSmallModel();
    server = await startModelServer(model.dir);
  });
  afterAll(async () => { await server?.stop(); rmSync(model.dir, { recursive: true, force: true }); });

  it('answers the health route, and predictions equal the trainer\'s on the test split to 1e-6 (named features, categories, NaN, unseen values)', async () => {
    expect(await get(`${server.url}/health`)).toBe(200);
    const p = await server.predict(model.instances);
    expect(p).toHaveLength(model.predictions.length);
    const worst = Math.max(...p.map((x, i) => Math.abs(x - model.predictions[i]!)));
    expect(worst).toBeLessThan(1e-6);
  });

  it('takes positional instances (raw values, categories as text) in the training order and ignores fields that are not features', async () => {
    const spec = JSON.parse(readFileSync(`${model.dir}/features.json`, 'utf8')) as { numeric: string[]; categorical: Record<string, string[]> };
    const i = model.instances[10]!;
    const row = [...spec.numeric.map((c) => i[c] ?? null), ...Object.keys(spec.categorical).map((c) => i[c] ?? null)];
    const [a, b] = await server.predict([row, { ...i, flight_id: 'AA100', airport: 'ORD' }]);
    expect(Math.abs(a! - model.predictions[10]!)).toBeLessThan(1e-6);
    expect(Math.abs(b! - model.predictions[10]!)).toBeLessThan(1e-6);
  });

  it('refuses a non-numeric value for a numeric feature with 400 naming it', async () => {
    await expect(server.predict([{ hour: 'noon' }])).rejects.toThrow(ValidationError);
    await expect(server.predict([{ hour: 'noon' }])).rejects.toThrow(/instances\[0\]: feature hour must be a number/);
    await expect(server.predict([[1, 2]])).rejects.toThrow(/has 2 values; the model takes 5/);
  });

  it('listens on the AIP_* routes and port it is given, on 0.0.0.0 by default (the container)', () => {
    const env = modelServerCommand().env('/m', 8080);
    expect(env).toMatchObject({ AIP_HTTP_PORT: '8080', AIP_HEALTH_ROUTE: '/health', AIP_PREDICT_ROUTE: '/predict', AIP_STORAGE_URI: '/m' });
    const src = readFileSync(new URL('../../../server/server.py', import.meta.url), 'utf8');
    expect(src).toContain('os.environ.get("CTLOOP_SERVER_HOST", "0.0.0.0")');
    expect(src).toContain('os.environ.get("AIP_HTTP_PORT", "8080")');
  });

  it('a model directory without model.bst fails the start with the reason (never a silent hang)', async () => {
    const err = await startModelServer('/nonexistent-model-dir').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransientError);
    expect(String((err as TransientError).hint)).toMatch(/no model.bst/);
  });

  it('a server that dies is reported: predict fails as transient with how it ended', async () => {
    const s = await startModelServer(model.dir);
    process.kill(s.pid, 'SIGKILL');
    await expect.poll(() => s.exited()).toMatch(/killed by SIGKILL/);
    await expect(s.predict([{ hour: 1 }])).rejects.toThrow(TransientError);
    await s.stop();
  });
});
