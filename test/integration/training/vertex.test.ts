import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeTrainingFunction } from '../../../functions/launch-training/job-state.js';
import { trainingContext } from '../../../shared/training/context.js';
import { onJobStateLog, reconcileRuns } from '../../../shared/training/job-state.js';
import { launchTraining } from '../../../shared/training/launch.js';
import { claimRun, getRun, runIdFor } from '../../../shared/training/runs.js';
import { collectCompletions, trainingRequest } from '../../helpers/training-events.js';
import { testModels, trainingFixture, type TrainingFixture } from '../../helpers/training-fixture.js';
import { VertexJobStandin } from '../../helpers/vertex-standin.js';

const SA = 'ctloop-trainer@ctloop-local.iam.gserviceaccount.com';
const IMAGE = 'us-central1-docker.pkg.dev/${project}/ctloop/trainer:abc123';
const models = testModels({ args: ['--num-boost-round', '50'] }).replace('    trainer:\n', `    trainer:\n      image: ${IMAGE}\n      machineType: n1-standard-8\n`);

/** A log line of the job-state sink, as Cloud Logging writes it for a CustomJob's service task. */
const logLine = (jobName: string, text: string) => ({
  insertId: 'x', logName: 'projects/ctloop-local/logs/ml.googleapis.com%2F123', textPayload: text, severity: 'INFO',
  resource: { type: 'ml_job', labels: { job_id: jobName.split('/').pop(), project_id: 'ctloop-local', task_name: 'service' } },
});

describe('Vertex AI training against a JobService stand-in built from the protos', () => {
  let fx: TrainingFixture;
  let vertex: VertexJobStandin;
  beforeAll(async () => {
    vertex = await new VertexJobStandin().start();
    fx = await trainingFixture({
      models, flights: 3000, from: '2001-04-20', to: '2001-06-02',
      env: { CTLOOP_TRAINING: 'vertex', CTLOOP_TRAINER_SERVICE_ACCOUNT: SA, CTLOOP_VERTEX_API_ENDPOINT: `127.0.0.1:${vertex.port}` },
    });
  });
  afterAll(async () => {
    await fx?.cleanup();
    await vertex?.stop();
  });

  it('createCustomJob carries the exact worker pool, the trainer contract env, the service account, output dir, timeout and run labels', async () => {
    const ctx = await trainingContext(fx.rt);
    const r = await launchTraining(ctx.deps, trainingRequest({ key: 'vx-1', end: '2001-06-01T00:00:00Z' }));
    expect(r.action).toBe('launched');
    const creates = vertex.requests.filter((q) => q.method === 'CreateCustomJob');
    expect(creates).toHaveLength(1);
    const prefix = `gs://ctloop-artifacts/training/flight_delay/${r.runId}/`;
    expect(creates[0]!.request).toEqual({
      parent: 'projects/ctloop-local/locations/us-central1',
      customJob: {
        displayName: `ctloop-${r.runId}`,
        labels: { ctloop_run: r.runId, ctloop_model: 'flight-delay' },
        jobSpec: {
          workerPoolSpecs: [{
            machineSpec: { machineType: 'n1-standard-8' },
            replicaCount: '1',
            containerSpec: {
              imageUri: 'us-central1-docker.pkg.dev/ctloop-local/ctloop/trainer:abc123',
              args: ['--num-boost-round', '50'],
              env: [
                { name: 'AIP_TRAINING_DATA_URI', value: `${prefix}data/train.csv` },
                { name: 'AIP_VALIDATION_DATA_URI', value: `${prefix}data/validation.csv` },
                { name: 'AIP_TEST_DATA_URI', value: `${prefix}data/test.csv` },
                { name: 'AIP_DATA_FORMAT', value: 'csv' },
                { name: 'CTLOOP_LABEL', value: 'delayed' },
                { name: 'CTLOOP_ROW_ID', value: 'flight_id' },
                { name: 'CTLOOP_SLICES', value: 'origin' },
                { name: 'CTLOOP_MODEL', value: 'flight_delay' },
              ],
            },
          }],
          baseOutputDirectory: { outputUriPrefix: prefix },
          serviceAccount: SA,
          scheduling: { timeout: { seconds: '300' } },
        },
      },
    });
    const run = await getRun(fx.rt.warehouse, r.runId);
    expect(run).toMatchObject({ state: 'RUNNING', backend: 'vertex', jobId: r.action === 'launched' ? r.jobId : 'not launched', modelUri: `${prefix}model/` });
    // The same request again (another event): no second job.
    expect((await launchTraining(ctx.deps, trainingRequest({ key: 'vx-1' }))).action).toBe('duplicate');
    expect(vertex.requests.filter((q) => q.method === 'CreateCustomJob')).toHaveLength(1);
  });

  it('a launch retried after a crash between createCustomJob and the run record adopts the job instead of creating another', async () => {
    const ctx = await trainingContext(fx.rt);
    const event = trainingRequest({ key: 'vx-crash', end: '2001-06-01T00:00:00Z' });
    const runId = runIdFor('flight_delay', 'vx-crash');
    // The first delivery claimed the run and created the job, then the function died before recording it.
    await claimRun(fx.rt.warehouse, { runId, model: 'flight_delay', requestKey: 'vx-crash', requestEventId: event.id, correlationId: event.correlationId, trigger: 'manual', backend: 'vertex', codeVersion: 'test', now: new Date() });
    const { jobId } = await ctx.launcher.launch({ runId, model: 'flight_delay', displayName: 'x', image: 'img', command: ['x'], args: [], machineType: 'n1-standard-4', timeoutSeconds: 60, env: {}, outputPrefix: 'gs://ctloop-artifacts/x/', logsUri: 'gs://ctloop-artifacts/x/logs.txt', cwd: '.', labels: { ctloop_run: runId } });
    const creates = vertex.requests.filter((q) => q.method === 'CreateCustomJob').length;
    // Pub/Sub redelivers the same event.
    expect(await launchTraining(ctx.deps, event)).toEqual({ action: 'already-launched', runId, jobId });
    expect(vertex.requests.filter((q) => q.method === 'CreateCustomJob')).toHaveLength(creates);
    expect((await getRun(fx.rt.warehouse, runId)).jobId).toBe(jobId);
  });

  it('job-state log lines: only a terminal state completes the run, once, whatever the number of lines', async () => {
    const ctx = await trainingContext(fx.rt);
    const done = await collectCompletions(fx.rt);
    const r = await launchTraining(ctx.deps, trainingRequest({ key: 'vx-2', end: '2001-06-01T00:00:00Z' }));
    if (r.action !== 'launched') throw new Error(r.action);
    const deps = { ...fx.rt, launcher: ctx.launcher, project: 'ctloop-local', region: 'us-central1' };
    vertex.setState(r.jobId, 'JOB_STATE_RUNNING');
    expect((await onJobStateLog(deps, logLine(r.jobId, 'Job is running.'))).action).toBe('not-terminal');
    // The trainer wrote its model (as the container would, under AIP_MODEL_DIR), then the job succeeded.
    const modelDir = (await getRun(fx.rt.warehouse, r.runId)).modelUri!;
    await fx.rt.objectStore.put(`${modelDir}model.bst`, 'xgboost bytes');
    await fx.rt.objectStore.put(`${modelDir}metrics.json`, JSON.stringify({ auc: 0.66, log_loss: 0.45, accuracy: 0.81 }));
    vertex.setState(r.jobId, 'JOB_STATE_SUCCEEDED');
    expect((await onJobStateLog(deps, logLine(r.jobId, 'Job completed successfully.'))).action).toBe('completed');
    expect((await onJobStateLog(deps, logLine(r.jobId, 'Tearing down training program.'))).action).toBe('already-finished');
    expect((await onJobStateLog(deps, { resource: { type: 'gce_instance', labels: {} } })).action).toBe('ignored');
    await fx.rt.bus.drain(30_000);
    expect(done.events.map((e) => e.data)).toEqual([expect.objectContaining({
      state: 'SUCCEEDED', runId: r.runId, jobId: r.jobId, modelUri: modelDir, baselineUri: `${modelDir}baseline_profile.json`, metrics: { auc: 0.66, log_loss: 0.45, accuracy: 0.81 },
    })]);
    expect(await fx.rt.objectStore.exists(`${modelDir}baseline_profile.json`)).toBe(true);
    await done.close();
  });

  it('the complete-training entry point reads job-state messages from Pub/Sub (log entries, and reconcile requests)', async () => {
    const ctx = await trainingContext(fx.rt);
    const done = await collectCompletions(fx.rt);
    const r = await launchTraining(ctx.deps, trainingRequest({ key: 'vx-fn', end: '2001-06-01T00:00:00Z' }));
    if (r.action !== 'launched') throw new Error(r.action);
    vertex.setState(r.jobId, 'JOB_STATE_CANCELLED');
    const fn = completeTrainingFunction(async () => fx.rt);
    const push = (body: unknown, id: string) => fn({
      id, type: 'google.cloud.pubsub.topic.v1.messagePublished', source: '//pubsub.googleapis.com/projects/ctloop-local/topics/ctloop-vertex-job-state',
      data: { message: { data: Buffer.from(JSON.stringify(body)).toString('base64'), messageId: id, attributes: {} } },
    });
    await push(logLine(r.jobId, 'Job was cancelled.'), 'm1');
    await push(logLine(r.jobId, 'Job was cancelled.'), 'm2'); // a redelivery
    await fx.rt.bus.drain(30_000);
    expect(done.events.filter((e) => e.data.runId === r.runId).map((e) => e.data.state)).toEqual(['CANCELLED']);
    await push({ reconcile: true }, 'm3');
    await fx.rt.bus.drain(30_000);
    expect(done.events.filter((e) => e.data.runId === r.runId)).toHaveLength(1);
    await done.close();
  });

  it('the reconciler finishes runs whose completion message was lost: a failed job and a job that wrote no model', async () => {
    const ctx = await trainingContext(fx.rt);
    const done = await collectCompletions(fx.rt);
    const a = await launchTraining(ctx.deps, trainingRequest({ key: 'vx-lost-a', end: '2001-06-01T00:00:00Z' }));
    const b = await launchTraining(ctx.deps, trainingRequest({ key: 'vx-lost-b', end: '2001-06-01T00:00:00Z' }));
    if (a.action !== 'launched' || b.action !== 'launched') throw new Error('not launched');
    vertex.setState(a.jobId, 'JOB_STATE_FAILED', 'The replica workerpool0-0 exited with a non-zero status of 1.');
    vertex.setState(b.jobId, 'JOB_STATE_SUCCEEDED');
    // No log line arrives. The scheduled reconciler looks at every unfinished run.
    const deps = { ...fx.rt, launcher: ctx.launcher, project: 'ctloop-local', region: 'us-central1' };
    const outcomes = await reconcileRuns(deps);
    expect(outcomes).toEqual(expect.arrayContaining([{ runId: a.runId, outcome: 'FAILED' }, { runId: b.runId, outcome: 'SUCCEEDED' }]));
    await reconcileRuns(deps); // a second pass changes nothing
    await fx.rt.bus.drain(30_000);
    const byRun = new Map(done.events.map((e) => [e.data.runId, e.data]));
    expect(done.events.filter((e) => e.data.runId === a.runId || e.data.runId === b.runId)).toHaveLength(2);
    expect(byRun.get(a.runId)).toMatchObject({ state: 'FAILED', error: expect.stringMatching(/JOB_STATE_FAILED: The replica workerpool0-0 exited/) });
    expect(byRun.get(b.runId)).toMatchObject({ state: 'FAILED', error: expect.stringMatching(/without writing a model/) });
    expect((await getRun(fx.rt.warehouse, a.runId)).finishedAt).not.toBeNull();
    await done.close();
  });
});
