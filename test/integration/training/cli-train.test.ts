import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { pythonTrainerMissing, repoRoot, testModels, trainingFixture, type TrainingFixture } from '../../helpers/training-fixture.js';

const missing = await pythonTrainerMissing();
if (missing) console.warn(`skipping ctloop train: ${missing}`);

describe.skipIf(missing !== null)('ctloop train / runs on the embedded default', () => {
  let fx: TrainingFixture;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    fx = await trainingFixture({ models: testModels(), flights: 8000, from: '2001-04-20', to: '2001-06-02' });
    await fx.rt.close(); // the CLI opens the warehouse itself
    env = { ...process.env, CTLOOP_STATE_DIR: join(fx.dir, 'state'), CTLOOP_MODELS: fx.modelsFile, CTLOOP_FEATURES: join(repoRoot, 'features.yaml'), METADATA_SERVER_DETECTION: 'none' };
  });
  afterAll(async () => fx?.cleanup());

  it('train --wait --format json prints the run id, SUCCEEDED and test metrics; the same command again launches nothing; runs list/show/compare read it', async () => {
    const first = await runCli(['train', '--model', 'flight_delay', '--wait', '--format', 'json'], { env });
    expect(first.code, first.stderr).toBe(0);
    const r = JSON.parse(first.stdout);
    expect(r).toMatchObject({ model: 'flight_delay', state: 'SUCCEEDED', launched: true, trigger: 'manual', backend: 'local' });
    expect(r.runId).toMatch(/^flight-delay-[0-9a-f]{16}$/);
    expect(r.metrics.auc).toBeGreaterThan(0.55);
    expect(r.metrics.log_loss).toBeGreaterThan(0);
    expect(r.rows.test).toBeGreaterThan(0);

    const again = await runCli(['train', '--model', 'flight_delay', '--wait', '--format', 'json'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ runId: r.runId, state: 'SUCCEEDED', launched: false });

    const list = JSON.parse((await runCli(['runs', 'list', '--format', 'json'], { env })).stdout);
    expect(list.map((x: { runId: string }) => x.runId)).toEqual([r.runId]);
    const show = JSON.parse((await runCli(['runs', 'show', r.runId, '--format', 'json'], { env })).stdout);
    expect(show).toMatchObject({ runId: r.runId, state: 'SUCCEEDED', requestKey: expect.stringMatching(/^manual\|flight_delay\|/) });
    expect(show.datasets.splits.train.uri).toMatch(/^gs:\/\/ctloop-artifacts\/training\/flight_delay\//);

    const other = JSON.parse((await runCli(['train', '--model', 'flight_delay', '--request-id', 'deeper', '--end', '2001-05-25T00:00:00Z', '--format', 'json'], { env: { ...env } })).stdout);
    expect(other).toMatchObject({ state: 'SUCCEEDED', launched: true });
    // The first model was evaluated and registered as champion: the second run scored it on its own test rows.
    const champion = JSON.parse((await runCli(['models', 'show', 'flight_delay@champion', '--format', 'json'], { env })).stdout);
    expect(champion).toMatchObject({ model: 'flight_delay', runId: r.runId });
    const otherRun = JSON.parse((await runCli(['runs', 'show', other.runId, '--format', 'json'], { env })).stdout);
    expect(otherRun.params.champion).toBe(champion.artifactUri);
    const cmp = JSON.parse((await runCli(['runs', 'compare', r.runId, other.runId, '--format', 'json'], { env })).stdout);
    const row = (k: string) => cmp.rows.find((x: { key: string }) => x.key === k)?.values;
    expect(row('params.end')).toEqual([expect.stringMatching(/^2001-06-0/), '2001-05-25T00:00:00.000Z']);
    expect(row('metrics.auc')).toHaveLength(2);
  });

  it('bad input: an unknown model names the closest one; an unknown run says how to list runs', async () => {
    const bad = await runCli(['train', '--model', 'flight_dealy'], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/model "flight_dealy" is not defined .*\(did you mean "flight_delay"\?\)/);
    const fresh = await runCli(['train', '--model', 'flight_delay'], { env: { ...env, CTLOOP_STATE_DIR: join(fx.dir, 'fresh-state') } });
    expect(fresh.code).not.toBe(0);
    expect(fresh.stderr).toMatch(/view flights has no labelled rows: nothing to train flight_delay on\n\s+fix: load labelled rows into flights first \(npm start loads the flights example\)/);
    const none = await runCli(['runs', 'show', 'nope'], { env });
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/training run nope does not exist\n\s+fix: list runs with: ctloop runs list/);
  });
});
