import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedModelRegistry } from '../../shared/adapters/model-registry/embedded/index.js';
import { LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { createDuckDbWarehouse } from '../../shared/adapters/warehouse/duckdb/index.js';
import type { ModelVersion } from '../../shared/ports/model-registry.js';
import { request } from '../contract/model-registry.contract.js';
import { runCli } from '../helpers/cli.js';

describe('ctloop models list|show', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-cli-models-'));
    const state = join(dir, 'state');
    env = { ...process.env, CTLOOP_STATE_DIR: state, METADATA_SERVER_DETECTION: 'none' };
    const warehouse = await createDuckDbWarehouse({ path: join(state, 'warehouse.duckdb') });
    const objectStore = new LocalObjectStore(join(state, 'objects'));
    const registry = new EmbeddedModelRegistry({ warehouse, objectStore, bucket: 'ctloop-artifacts' });
    await registry.registerVersion(request('run-1', {
      aliases: ['challenger', 'champion'],
      evaluation: { blessed: true, championVersion: null, checks: [{ check: 'threshold.auc.min', metric: 'auc', slice: null, status: 'passed', detail: 'candidate auc 0.648 is >= 0.55' }] },
    }));
    await registry.registerVersion(request('run-2', {
      aliases: [], blessed: false, metrics: { auc: 0.6 },
      evaluation: { blessed: false, championVersion: '1', checks: [{ check: 'regression.auc', metric: 'auc', slice: 'origin=SFO', status: 'failed', detail: 'candidate auc 0.5 on slice origin=SFO regresses beyond the allowed minimum 0.99 (champion 1 - maxDrop 0.01)' }] },
    }));
    await warehouse.close();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists versions with aliases, verdict and lineage as JSON', async () => {
    const r = await runCli(['models', 'list', '--format', 'json'], { env });
    expect(r.stderr).toBe('');
    const versions = JSON.parse(r.stdout) as ModelVersion[];
    expect(versions.map((v) => [v.version, v.aliases, v.blessed])).toEqual([['1', ['challenger', 'champion'], true], ['2', [], false]]);
    expect(versions[0]!.lineage.trigger).toEqual({ reason: 'drift', driftReportId: 'drift-42', requestId: 'req-1' });
  });

  it('shows a version by alias or number with every check', async () => {
    const byAlias = await runCli(['models', 'show', 'flight_delay@champion', '--format', 'json'], { env });
    expect(JSON.parse(byAlias.stdout)).toMatchObject({ version: '1', runId: 'run-1', evaluation: { blessed: true } });
    const text = await runCli(['models', 'show', 'flight_delay@2'], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('flight_delay@2  REFUSED');
    expect(text.stdout).toMatch(/FAILED\s+regression\.auc\s+origin=SFO\s+candidate auc 0\.5 on slice origin=SFO regresses/);
  });

  it('says which versions exist when the reference names none', async () => {
    const r = await runCli(['models', 'show', 'flight_delay@7'], { env });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('model flight_delay has no version or alias "7"');
    expect(r.stderr).toContain('versions: 1 (challenger, champion), 2');
  });
});
