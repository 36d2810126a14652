import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalObjectStore } from '../../../shared/adapters/object-store/local/index.js';
import { LocalTrainingRunner } from '../../../shared/adapters/training/local.js';
import type { JobSpec, JobStatus } from '../../../shared/training/launcher.js';

describe('local training runner', () => {
  let dir: string;
  let store: LocalObjectStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-runner-'));
    store = new LocalObjectStore(join(dir, 'objects'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const spec = (command: string[], extra: Partial<JobSpec> = {}): JobSpec => ({
    runId: 'r1', model: 'm', displayName: 'x', command, args: [], machineType: 'n1-standard-4', timeoutSeconds: 60,
    env: {}, outputPrefix: 'gs://bkt/runs/r1/', logsUri: 'gs://bkt/runs/r1/logs.txt', cwd: dir, labels: {}, ...extra,
  });

  it('streams the logs to the run while the trainer runs, and gives it the contract env with local files', async () => {
    await store.put('gs://bkt/data/train.csv', 'a,b\n1,2\n');
    const marker = join(dir, 'go-on');
    const runner = new LocalTrainingRunner({ objectStore: store, logFlushSeconds: 0.05 });
    const ended: JobStatus[] = [];
    runner.setOnDone(async ({ status }) => void ended.push(status));
    // The trainer prints, then waits until the test has seen its first line in the run's log object.
    const script = `echo "step 1 $(head -1 "$AIP_TRAINING_DATA_URI")"; while [ ! -e ${marker} ]; do sleep 0.05; done; echo "x" > "$AIP_MODEL_DIR/model.bst"; echo done`;
    const { jobId } = await runner.launch(spec(['/bin/sh', '-c', script], { env: { AIP_TRAINING_DATA_URI: 'gs://bkt/data/train.csv' } }));
    expect((await runner.status(jobId)).state).toBe('RUNNING');
    let seen = '';
    for (let i = 0; i < 400 && !seen.includes('step 1'); i++) {
      if (await store.exists('gs://bkt/runs/r1/logs.txt')) seen = (await store.get('gs://bkt/runs/r1/logs.txt')).toString('utf8');
      if (!seen.includes('step 1')) await new Promise((r) => setTimeout(r, 50));
    }
    const endedEarly = ended.length;
    await writeFile(marker, ''); // let the trainer finish whatever was seen, so a failure below never hangs
    expect(seen).toBe('step 1 a,b\n');
    expect(endedEarly).toBe(0);
    await runner.idle();
    expect(ended).toEqual([{ state: 'SUCCEEDED', logsTail: 'step 1 a,b\ndone' }]);
    expect((await store.get('gs://bkt/runs/r1/logs.txt')).toString('utf8')).toBe('step 1 a,b\ndone\n');
    expect((await store.get('gs://bkt/runs/r1/model/model.bst')).toString('utf8')).toBe('x\n');
    // Finished in this process: its terminal status stays readable (for the reconciler).
    expect(await runner.status(jobId)).toEqual({ state: 'SUCCEEDED', logsTail: 'step 1 a,b\ndone' });
  });
});
