import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryOf } from '../../shared/adapters/model-registry/runtime.js';
import { loadConfig } from '../../shared/config/config.js';
import { readHistory } from '../../shared/drift/history.js';
import { REQUESTS_TABLE } from '../../shared/drift/policy.js';
import { createRuntime } from '../../shared/runtime/runtime.js';
import { getRun } from '../../shared/training/runs.js';
import { runCli } from '../helpers/cli.js';

interface DemoJson {
  models: { version: string; runId: string; trigger: string; blessed: boolean; aliases: string[]; failedChecks: unknown[] }[];
  drift: { reportId: string; datasetDrift: boolean; decision: string; drifted: string[] }[];
  driftToRegisteredMs: number[];
  stages: { name: string; seconds: number }[];
}

describe('ctloop demo --quick: the loop on real data, asserted by its outcomes', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let res: Awaited<ReturnType<typeof runCli>>;
  let out: DemoJson;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-demo-quick-'));
    env = { ...process.env, CTLOOP_STATE_DIR: join(dir, 'state'), CI: 'true', METADATA_SERVER_DETECTION: 'none' };
    res = await runCli(['demo', '--quick', '--format', 'json'], { env });
    out = JSON.parse(res.stdout) as DemoJson;
  }, 240_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('ends with a blessed first model as champion, drift reports, and a drift-triggered retrain with its reasons', () => {
    expect(res.code, res.stderr).toBe(0);
    expect(out.stages.map((s) => s.name)).toEqual(['data', 'history', 'first model', 'weeks with drift checks']);
    expect(out.models[0]).toMatchObject({ version: '1', trigger: 'manual', blessed: true });
    expect(out.models[0]!.aliases).toContain('champion');
    expect(out.drift.length).toBeGreaterThanOrEqual(1);
    const retrain = out.drift.find((d) => d.decision.startsWith('retrain:'));
    expect(retrain, JSON.stringify(out.drift)).toBeDefined();
    expect(retrain!.datasetDrift).toBe(true);
    expect(retrain!.decision).toMatch(/^retrain: \d+% of features drifted$/);
    expect(retrain!.drifted.length).toBeGreaterThan(0);
    const second = out.models.find((m) => m.trigger === 'drift');
    expect(second, JSON.stringify(out.models)).toBeDefined();
    expect(out.driftToRegisteredMs).toHaveLength(1);
  });

  it('prints plain progress lines under CI=true (no escape codes), with the injected scenario labelled', () => {
    expect(res.stderr).not.toMatch(/\x1b\[/);
    expect(res.stderr).toMatch(/^\[4\/4\] weeks with drift checks done in [\d.]+ s: /m);
    expect(res.stderr).toMatch(/SCENARIO \(injected, not in the real data\): /);
    expect(res.stderr).toMatch(/scheduler job ctloop-drift-check-flights at 2001-\d\d-\d\d 06:00: window /);
  });

  it('keeps lineage from the registry back to the training request and the drift report', async () => {
    const rt = await createRuntime(loadConfig(env), {}, { readOnly: true });
    try {
      const registry = await registryOf(rt);
      const drifted = out.models.find((m) => m.trigger === 'drift')!;
      const v = await registry.getVersion('flight_delay', drifted.version);
      expect(v?.lineage.trigger?.reason).toBe('drift');
      const reportId = v!.lineage.trigger!.driftReportId!;
      expect(out.drift.find((d) => d.decision.startsWith('retrain:'))!.reportId).toBe(reportId);
      // The run records the request event; the policy's ledger ties that event to the drift report.
      const run = await getRun(rt.warehouse, v!.lineage.runId);
      expect(run).toMatchObject({ trigger: 'drift', driftReportId: reportId });
      const ledger = await rt.warehouse.query(`SELECT report_id, event_id FROM ${rt.warehouse.dialect.table(REQUESTS_TABLE)}`);
      expect(ledger).toEqual([{ report_id: reportId, event_id: run.requestEventId }]);
      const history = await readHistory(rt.warehouse, { view: 'flights' });
      expect(history.map((h) => h.report_id)).toContain(reportId);
      const champion = await registry.getVersion('flight_delay', 'champion');
      expect(champion?.lineage.trigger?.reason).toBe('manual');
    } finally {
      await rt.close();
    }
  });

  it('never removes a state directory that no demo wrote', async () => {
    const state = join(dir, 'user-state');
    await mkdir(state, { recursive: true });
    await writeFile(join(state, 'warehouse.duckdb'), 'not mine');
    const r = await runCli(['demo', '--quick'], { env: { ...env, CTLOOP_STATE_DIR: state } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/already holds ctloop data that no demo wrote/);
    expect(r.stderr).toMatch(/CTLOOP_STATE_DIR=/);
  });
});
