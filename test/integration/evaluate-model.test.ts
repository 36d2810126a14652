import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedModelRegistry } from '../../shared/adapters/model-registry/embedded/index.js';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { createDuckDbWarehouse, type DuckDbWarehouse } from '../../shared/adapters/warehouse/duckdb/index.js';
import { NotFoundError } from '../../shared/errors.js';
import { evaluateTrainedModel, type EvaluateModelDeps } from '../../shared/evaluation/evaluate-model.js';
import { evaluationSpecSchema } from '../../shared/evaluation/gate-spec.js';
import type { Envelope } from '../../shared/events/envelope.js';
import { createEvent, parseEventOf } from '../../shared/events/catalog.js';
import type { EventBus } from '../../shared/ports/event-bus.js';

/** predictions.csv where the candidate (and the champion, when given) is good or no better than chance per origin. */
function predictions(rows: { origin: string; n: number; candidateGood: boolean; championGood?: boolean }[]): string {
  const withBaseline = rows.some((r) => r.championGood !== undefined);
  const lines = [`row_id,label,score${withBaseline ? ',baseline_score' : ''},origin`];
  let id = 0;
  for (const r of rows) {
    for (let i = 0; i < r.n; i++) {
      const y = i % 4 === 0 ? 1 : 0;
      const s = (good: boolean) => (good ? (y ? 0.7 + (i % 7) / 100 : 0.15 + (i % 5) / 100) : 0.25);
      lines.push(`r${id++},${y},${s(r.candidateGood)}${withBaseline ? `,${s(r.championGood ?? true)}` : ''},${r.origin}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

const BUCKET = 'ctloop-artifacts';
const modelDir = (run: string) => `gs://${BUCKET}/training/${run}/model/`;

function completed(run: string, state: 'SUCCEEDED' | 'FAILED' = 'SUCCEEDED') {
  return createEvent('trainingCompleted', {
    model: 'flight_delay', jobId: `job-${run}`, state, runId: run, ...(state === 'SUCCEEDED' ? { modelUri: modelDir(run) } : { error: 'exit code 1', logsTail: 'Traceback…' }),
    trigger: 'drift', driftReportId: 'report-7',
    datasets: { train: { uri: `gs://${BUCKET}/training/${run}/data/train.csv`, rows: 9000 }, test: { uri: `gs://${BUCKET}/training/${run}/data/test.csv`, rows: 660 } },
  }, { source: 'test' });
}

describe('evaluate-model: training.completed → gate → registry → model.evaluated', () => {
  let dir: string;
  let warehouse: DuckDbWarehouse;
  let store: LocalObjectStore;
  let deps: EvaluateModelDeps;
  const published: Envelope[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-evaluate-'));
    warehouse = await createDuckDbWarehouse({ path: join(dir, 'w.duckdb') });
    store = new LocalObjectStore(join(dir, 'objects'));
    const bus: EventBus = {
      publish: async (_topic, event) => {
        published.push(event);
        return String(published.length);
      },
      subscribe: () => Promise.reject(new Error('not used')),
      drain: async () => {},
      close: async () => {},
    };
    const evaluation = evaluationSpecSchema.parse({
      slices: ['origin'], minSliceSize: 50,
      gate: { thresholds: { auc: { min: 0.55 } }, regression: { auc: { maxDrop: 0.01 }, log_loss: { maxRelativeIncrease: 0.15 } }, requiredSlices: [{ origin: 'SFO' }] },
    });
    deps = { objectStore: store, bus, registry: new EmbeddedModelRegistry({ warehouse, objectStore: store, bucket: BUCKET }), models: async () => ({ evaluation, servingImage: 'img:1' }) };
  });
  afterAll(async () => {
    await warehouse?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('blesses a first model with no champion on absolute checks and makes it champion, with its lineage', async () => {
    await store.put(`${modelDir('run-1')}predictions.csv`, predictions([{ origin: 'LAX', n: 400, candidateGood: true }, { origin: 'SFO', n: 100, candidateGood: true }]));
    await store.put(`${modelDir('run-1')}baseline_profile.json`, '{}');
    const r = await evaluateTrainedModel(deps, completed('run-1'));
    expect(r).toMatchObject({ action: 'evaluated', blessed: true, version: { version: '1', aliases: ['challenger', 'champion'] } });
    const ev = parseEventOf('modelEvaluated', published.at(-1));
    expect(ev.data).toMatchObject({ model: 'flight_delay', candidateVersion: '1', championVersion: null, blessed: true, failedChecks: [], runId: 'run-1' });
    expect(ev.data.metrics.auc).toBe(1);
    const v = (await deps.registry.getVersion('flight_delay', 'champion'))!;
    expect(v.lineage).toEqual({
      runId: 'run-1', jobId: 'job-run-1', trigger: { reason: 'drift', driftReportId: 'report-7', requestId: null },
      dataUris: { train: `gs://${BUCKET}/training/run-1/data/train.csv`, test: `gs://${BUCKET}/training/run-1/data/test.csv` },
    });
    expect(v.baselineProfileUri).toBe(`${modelDir('run-1')}baseline_profile.json`);
    const report = JSON.parse((await store.get(v.evaluationUri!)).toString('utf8')) as { checks: { check: string; status: string }[] };
    expect(report.checks.filter((c) => c.status === 'skipped').map((c) => c.check)).toContain('regression.auc');
  });

  it('registers a duplicate completed event once and republishes the same verdict', async () => {
    const before = published.length;
    const r = await evaluateTrainedModel(deps, completed('run-1'));
    expect(r.action).toBe('republished');
    expect((await deps.registry.listVersions('flight_delay')).map((v) => v.version)).toEqual(['1']);
    expect(published).toHaveLength(before + 1);
    expect(published.at(-1)!.id).toBe(published.at(-2)!.id);
  });

  it('refuses a candidate worse than the champion on a required slice, and says why', async () => {
    await store.put(`${modelDir('run-2')}predictions.csv`, predictions([
      { origin: 'LAX', n: 2000, candidateGood: true, championGood: true },
      { origin: 'SFO', n: 100, candidateGood: false, championGood: true },
    ]));
    const r = await evaluateTrainedModel(deps, completed('run-2'));
    expect(r).toMatchObject({ action: 'evaluated', blessed: false, version: { version: '2', aliases: [], blessed: false } });
    const ev = parseEventOf('modelEvaluated', published.at(-1));
    expect(ev.data.blessed).toBe(false);
    expect(ev.data.championVersion).toBe('1');
    expect(ev.data.failedChecks).toContainEqual({
      check: 'regression.auc', slice: 'origin=SFO',
      detail: 'candidate auc 0.5 on slice origin=SFO regresses beyond the allowed minimum 0.99 (champion 1 - maxDrop 0.01)',
    });
    expect(ev.data.failedChecks.every((c) => c.slice === 'origin=SFO')).toBe(true); // overall it passes
    expect((await deps.registry.getVersion('flight_delay', 'champion'))!.version).toBe('1');
  });

  it('acknowledges a failed run without registering or publishing anything', async () => {
    const before = published.length;
    const r = await evaluateTrainedModel(deps, completed('run-3', 'FAILED'));
    expect(r).toEqual({ action: 'skipped', reason: 'training failed: nothing to evaluate' });
    expect(published).toHaveLength(before);
    expect(await deps.registry.findByRun('flight_delay', 'run-3')).toBeNull();
  });

  it('fails permanently when the trainer wrote no predictions', async () => {
    await expect(evaluateTrainedModel(deps, completed('run-4'))).rejects.toBeInstanceOf(NotFoundError);
    expect(await deps.registry.findByRun('flight_delay', 'run-4')).toBeNull();
  });
});
