import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
  driftToServingMs: number[];
  deployments: { version: string; championVersion: string | null; phase: string; reason: string | null; checks: { check: string; status: string; detail: string }[]; decidedAt: string | null }[];
  serving: { predictions: number; labelled: number; byVersion: Record<string, number>; sample: { requestId: string; model: { name: string; version: string }; prediction: number } | null };
  live: { version: string; labelled: number; auc: number | null }[];
  report: string | null;
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
    expect(out.stages.map((s) => s.name)).toEqual(['data', 'history', 'first model', 'weeks with drift checks', 'delivery and live metrics']);
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
    expect(res.stderr).toMatch(/^\[4\/5\] weeks with drift checks done in [\d.]+ s: /m);
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

  it('deploys the first model and serves every following week through /predict, with delayed labels joined', async () => {
    expect(out.deployments[0]).toMatchObject({ version: '1', championVersion: null, phase: 'promoted' });
    expect(out.serving.sample).toMatchObject({ model: { name: 'flight_delay', version: '1' } });
    expect(out.serving.sample!.prediction).toBeGreaterThanOrEqual(0);
    expect(out.serving.sample!.prediction).toBeLessThanOrEqual(1);
    expect(out.serving.predictions).toBeGreaterThan(1000);
    expect(out.serving.labelled).toBeGreaterThan(0);
    expect(out.serving.labelled).toBeLessThan(out.serving.predictions); // the last week's outcomes are not known yet
    const rt = await createRuntime(loadConfig(env), {}, { readOnly: true });
    try {
      const [log] = await rt.warehouse.query('SELECT COUNT(*) AS n, MIN(logged_at) AS first FROM _serving_log WHERE model = \'flight_delay\'');
      expect(Number(log!.n)).toBe(out.serving.predictions);
      expect(new Date(String(log!.first)).getUTCFullYear()).toBe(2001); // stamped on the simulated clock
      const [labels] = await rt.warehouse.query('SELECT COUNT(*) AS n FROM _serving_labels');
      expect(Number(labels!.n)).toBe(out.serving.labelled);
    } finally {
      await rt.close();
    }
    const v1 = out.live.find((l) => l.version === '1');
    expect(v1?.labelled).toBeGreaterThan(0);
    expect(v1?.auc).toBeGreaterThan(0.5);
  });

  it('canaries the drift-retrained version beside the champion and promotes or rolls it back with its reasons', () => {
    const drifted = out.models.find((m) => m.trigger === 'drift')!;
    expect(drifted.blessed, JSON.stringify(drifted)).toBe(true);
    const rollout = out.deployments.find((d) => d.version === drifted.version);
    expect(rollout, JSON.stringify(out.deployments)).toMatchObject({ championVersion: '1' });
    expect(['promoted', 'rolled_back']).toContain(rollout!.phase);
    expect(rollout!.reason).toMatch(/canary period over|canary worse than allowed/);
    expect(rollout!.checks.map((c) => c.check).sort()).toEqual(['error_rate', 'latency_p99', 'prediction_drift']);
    expect(rollout!.decidedAt!.slice(0, 4)).toBe('2001');
    expect(out.serving.byVersion[drifted.version]).toBeGreaterThan(0); // the canary answered live traffic
    expect(res.stderr).toMatch(rollout!.phase === 'promoted' ? /PROMOTED v\d+ to champion/ : /ROLLED BACK v\d+; v1 keeps all the traffic: /);
    expect(out.driftToServingMs).toHaveLength(1);
  });

  it('writes the report and keeps lineage from serving back to the data (ctloop why)', async () => {
    expect(out.report).toMatch(/report\.html$/);
    expect((await readFile(out.report!, 'utf8')).length).toBeGreaterThan(1000);
    const why = await runCli(['why', 'flight_delay@champion', '--format', 'json'], { env });
    expect(why.code, why.stderr).toBe(0);
    const links = (JSON.parse(why.stdout) as { links: { stage: string; present: boolean; summary: string }[] }).links;
    const present = links.filter((l) => l.present).map((l) => l.stage);
    expect(present).toEqual(expect.arrayContaining(['serving', 'canary', 'evaluation', 'training run', 'training request', 'data']));
    expect(links.find((l) => l.stage === 'serving')!.summary).toMatch(/100% of embedded:\/\/flight_delay/);
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
