import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { firestoreEmulatorUnavailable } from '../helpers/firestore-emulator.js';
import { pubsubEmulatorUnavailable } from '../helpers/pubsub-emulator.js';

/**
 * `ctloop demo --quick --emulators` through the CLI: the same outcomes as the embedded quick demo
 * (demo-quick.test.ts), with every event a Pub/Sub message pushed by the emulator to the functions served by
 * functions-framework — asserted from the function host's request counts and the emulator's subscriptions (none
 * pulls from a function's topic) — and every emulator process it started gone when it ends.
 */
const unavailable = pubsubEmulatorUnavailable() ?? firestoreEmulatorUnavailable();
if (unavailable) console.warn(`[demo-emulators] skipping: ${unavailable}`);

interface DemoJson {
  mode: string;
  models: { version: string; trigger: string; blessed: boolean; aliases: string[] }[];
  drift: { reportId: string; datasetDrift: boolean; decision: string; drifted: string[] }[];
  deployments: { version: string; championVersion: string | null; phase: string; reason: string | null; checks: { check: string }[] }[];
  driftToRegisteredMs: number[];
  driftToServingMs: number[];
  serving: { predictions: number; byVersion: Record<string, number> };
  stages: { name: string; seconds: number }[];
  emulators: {
    processes: { name: string; pid: number; started: boolean }[];
    functions: { function: string; port: number; subscription: string; pushEndpoint: string; requests: number; acked: number }[];
    pullSubscriptions: string[];
  };
  lineage: { links: { stage: string; present: boolean }[] };
}

const groupAlive = (pgid: number) => { try { process.kill(-pgid, 0); return true; } catch { return false; } };

describe.skipIf(!!unavailable)('ctloop demo --quick --emulators: the loop over real Pub/Sub pushes', () => {
  let dir: string;
  let res: Awaited<ReturnType<typeof runCli>>;
  let out: DemoJson;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-demo-emu-'));
    const env = {
      ...process.env, CTLOOP_STATE_DIR: join(dir, 'state'), CI: 'true', METADATA_SERVER_DETECTION: 'none',
      PUBSUB_PORT: '0', STORAGE_PORT: '0', FIRESTORE_PORT: '0', CTLOOP_FUNCTIONS_PORT: '0',
    };
    res = await runCli(['demo', '--quick', '--emulators', '--format', 'json'], { env });
    out = JSON.parse(res.stdout || '{}') as DemoJson;
  }, 300_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('serves a champion, reports drift with a retrain decision and its reasons, and decides the canary', () => {
    expect(res.code, res.stderr.slice(-3000)).toBe(0);
    expect(out.mode).toBe('emulators');
    expect(out.models[0]).toMatchObject({ version: '1', trigger: 'manual', blessed: true });
    expect(out.models[0]!.aliases).toContain('champion');
    const retrain = out.drift.find((d) => d.decision.startsWith('retrain:'));
    expect(retrain, JSON.stringify(out.drift)).toBeDefined();
    expect(retrain!.decision).toMatch(/^retrain: \d+% of features drifted$/);
    expect(retrain!.drifted.length).toBeGreaterThan(0);
    const drifted = out.models.find((m) => m.trigger === 'drift');
    expect(drifted, JSON.stringify(out.models)).toBeDefined();
    const rollout = out.deployments.find((d) => d.version === drifted!.version);
    expect(rollout, JSON.stringify(out.deployments)).toMatchObject({ championVersion: '1' });
    expect(['promoted', 'rolled_back']).toContain(rollout!.phase);
    expect(rollout!.reason).toMatch(/canary period over|canary worse than allowed/);
    expect(out.serving.predictions).toBeGreaterThan(1000);
    expect(out.driftToServingMs).toHaveLength(1);
    expect(res.stderr).toMatch(/--emulators: mode emulators/);
  });

  it('keeps lineage from serving back to the data', () => {
    const present = out.lineage.links.filter((l) => l.present).map((l) => l.stage);
    expect(present).toEqual(expect.arrayContaining(['serving', 'canary', 'evaluation', 'training run', 'training request', 'data']));
  });

  it('delivered through push subscriptions to the functions under functions-framework, none pulled', () => {
    const fns = Object.fromEntries(out.emulators.functions.map((f) => [f.function, f]));
    for (const name of ['ingest-features', 'load-feature-file', 'detect-drift', 'launch-training', 'evaluate-model', 'deploy-model', 'reconcile-deployments']) {
      expect(fns[name]?.acked, name).toBeGreaterThan(0);
      expect(fns[name]!.pushEndpoint).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${fns[name]!.port}/projects/`));
      expect(fns[name]!.subscription).toBe(`ctloop-${name}-push`);
    }
    expect(out.emulators.pullSubscriptions).toEqual([]);
  });

  it('stops every emulator it started', () => {
    const started = out.emulators.processes.filter((p) => p.started);
    expect(started.map((p) => p.name).sort()).toEqual(['firestore', 'pubsub', 'storage']);
    for (const p of started) expect(groupAlive(p.pid), p.name).toBe(false);
  });
});
