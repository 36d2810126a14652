import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedModelRegistry } from '../../shared/adapters/model-registry/embedded/index.js';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { createDuckDbWarehouse } from '../../shared/adapters/warehouse/duckdb/index.js';
import type { Rollout } from '../../shared/delivery/rollout-store.js';
import { runCli } from '../helpers/cli.js';
import { registerStandinVersion } from '../helpers/endpoint-fixtures.js';

/**
 * `ctloop deploy | rollback | endpoints` as a user runs them on the embedded default. The registered version has no
 * model.bst, so the model server cannot start: the deployment is rolled back at once and says why.
 */
describe('ctloop deploy | rollback | endpoints', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-cli-deploy-'));
    const state = join(dir, 'state');
    env = { ...process.env, CTLOOP_STATE_DIR: state, METADATA_SERVER_DETECTION: 'none' };
    const warehouse = await createDuckDbWarehouse({ path: join(state, 'warehouse.duckdb') });
    const objectStore = new LocalObjectStore(join(state, 'objects'));
    const registry = new EmbeddedModelRegistry({ warehouse, objectStore, bucket: 'ctloop-artifacts' });
    await registerStandinVersion(registry, objectStore, 'ctloop-artifacts', 'flight_delay', 'run-1', { bias: 0 });
    await warehouse.close();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses bad references and canary shares before doing anything', async () => {
    const noAt = await runCli(['deploy', 'flight_delay'], { env });
    expect(noAt.code).not.toBe(0);
    expect(noAt.stderr).toMatch(/"flight_delay" is not model@version\n\s+fix: e\.g\. ctloop deploy flight_delay@3 --canary 10/);
    const canary = await runCli(['deploy', 'flight_delay@1', '--canary', '0'], { env });
    expect(canary.code).toBe(2);
    expect(canary.stderr).toMatch(/--canary <percent>.*Expected a whole number from 1 to 100, got 0/);
    const unknown = await runCli(['deploy', 'flight_delay@7'], { env });
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/model flight_delay has no version or alias "7"\n\s+fix: versions: 1/);
  });

  it('a version whose server cannot start is rolled back, says why and exits 1; nothing is deployed', async () => {
    const r = await runCli(['deploy', 'flight_delay@1', '--format', 'json'], { env });
    expect(r.code).toBe(1);
    const rollout = JSON.parse(r.stdout) as Rollout;
    expect(rollout).toMatchObject({ model: 'flight_delay', version: '1', phase: 'rolled_back' });
    expect(rollout.reason).toMatch(/the canary was not deployed: .*model server exited/);
    const e = await runCli(['endpoints', '--format', 'json'], { env });
    expect(e.code).toBe(0);
    expect(JSON.parse(e.stdout)).toEqual([{ model: 'flight_delay', endpoint: null, rollout: null }]);
    const text = await runCli(['endpoints'], { env });
    expect(text.stdout).toMatch(/no model is deployed yet/);
  });

  it('rollback without a rollout in progress says what to do instead', async () => {
    const r = await runCli(['rollback', 'flight_delay'], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/flight_delay has no rollout in progress\n\s+fix: to serve an older version again, deploy it/);
  });
});
