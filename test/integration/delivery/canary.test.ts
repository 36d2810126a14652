import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RolloutStore } from '../../../shared/delivery/rollout-store.js';
import { reconcileRollouts, rollbackNow, startRollout } from '../../../shared/delivery/rollout.js';
import { createEvent } from '../../../shared/events/catalog.js';
import { BUCKET, deliveryHarness } from '../../helpers/delivery-harness.js';

/**
 * Issue 10's done-when cases on the embedded default, with stand-in model servers and an injected clock: a blessed
 * model is canaried and promoted; a deliberately worse canary is rolled back; a canary whose server fails health is
 * rolled back and the champion keeps all traffic. The canary period ends on a reconcile tick, never by waiting.
 */
const M = 'flight_delay';

describe('canary delivery on the embedded endpoint', () => {
  let h: Awaited<ReturnType<typeof deliveryHarness>>;
  let champion: string;
  beforeAll(async () => {
    h = await deliveryHarness();
    champion = await h.add(M, { bias: 0, weights: { x: 1 } });
    const r = await startRollout(h.deps, { model: M, version: champion });
    expect(r.phase).toBe('promoted'); // the first version has nothing to be compared with
  });
  afterAll(async () => {
    await h?.close();
  });

  const split = async () => {
    const s = (await h.endpoint.describe(M))!;
    return Object.fromEntries(s.deployedModels.map((d) => [d.version, s.trafficSplit[d.deployedModelId]]));
  };

  it('a blessed model is canaried at 10%, and promoted after the canary period on live signals', async () => {
    const candidate = await h.add(M, { bias: 0.05, weights: { x: 1 } });
    const evaluated = createEvent('modelEvaluated', { model: M, candidateVersion: candidate, championVersion: champion, blessed: true, metrics: { auc: 0.66 }, failedChecks: [] }, { source: 'test' });
    h.events.length = 0;
    let r = await startRollout(h.deps, { model: M, version: candidate, cause: evaluated });
    expect(r.phase).toBe('canary');
    expect(await split()).toEqual({ [champion]: 90, [candidate]: 10 });

    await h.traffic(M, 600);
    h.advance(300);
    r = (await reconcileRollouts(h.deps))[0]!; // enough predictions, but the period is not over
    expect(r.phase).toBe('canary');
    h.advance(301);
    r = (await reconcileRollouts(h.deps))[0]!;
    expect(r.phase).toBe('promoted');
    expect(r.checks.map((c) => [c.check, c.status])).toEqual([['error_rate', 'passed'], ['latency_p99', 'passed'], ['prediction_drift', 'passed']]);
    expect(await split()).toEqual({ [candidate]: 100 }); // the old version is undeployed
    expect((await h.registry.getVersion(M, 'champion'))!.version).toBe(candidate);
    expect(await new RolloutStore(h.deps.objectStore, BUCKET).get(M)).toBeNull();

    await h.bus.drain();
    const chain = h.events.map((e) => [e.type, e.causationId]);
    expect(chain).toEqual([
      ['ctloop.deploy.requested.v1', evaluated.id],
      ['ctloop.model.deployed.v1', h.events[0]!.id],
      ['ctloop.model.deployed.v1', h.events[1]!.id],
    ]);
    expect(new Set(h.events.map((e) => e.correlationId))).toEqual(new Set([evaluated.correlationId]));
    expect((h.events[2]!.data as { trafficSplit: Record<string, number> }).trafficSplit).toEqual({ [r.candidateDeployedModelId!]: 100 });
    champion = candidate;
  });

  it('a deliberately worse canary (live predictions unlike its test predictions, failing requests) is rolled back', async () => {
    const worse = await h.add(M, { bias: 2.5, weights: { x: 1 }, errorEvery: 4 }, Array.from({ length: 200 }, (_, i) => 1 / (1 + Math.exp(-(((i * 37) % 200) / 50 - 2)))));
    h.events.length = 0;
    let r = await startRollout(h.deps, { model: M, version: worse, canaryPercent: 20 });
    expect(await split()).toEqual({ [champion]: 80, [worse]: 20 });
    await h.traffic(M, 400);
    h.advance(700);
    r = (await reconcileRollouts(h.deps))[0]!;
    expect(r.phase).toBe('rolled_back');
    expect(Object.fromEntries(r.checks.map((c) => [c.check, c.status]))).toEqual({ error_rate: 'failed', latency_p99: 'passed', prediction_drift: 'failed' });
    expect(r.reason).toMatch(/canary worse than allowed: error_rate: .*prediction_drift: psi distance/);
    expect(await split()).toEqual({ [champion]: 100 });
    expect((await h.registry.getVersion(M, 'champion'))!.version).toBe(champion);
    await h.bus.drain();
    expect(h.events.map((e) => e.type)).toEqual(['ctloop.deploy.requested.v1', 'ctloop.model.deployed.v1', 'ctloop.deployment.rolled_back.v1']);
    expect(h.events[2]!.causationId).toBe(h.events[1]!.id);
    expect(h.events[2]!.data).toMatchObject({ model: M, fromVersion: worse, toVersion: champion });
  });

  it('a canary whose server fails health is rolled back by itself and the champion keeps all traffic', async () => {
    const sick = await h.add(M, { bias: 0, weights: { x: 1 }, failHealth: true });
    h.events.length = 0;
    const r = await startRollout(h.deps, { model: M, version: sick });
    expect(r.phase).toBe('rolled_back');
    expect(r.reason).toMatch(/not deployed: .*did not answer \/health with 200 within 2000 ms/);
    expect(await split()).toEqual({ [champion]: 100 });
    const served = await h.traffic(M, 20);
    expect(new Set(served.map((x) => x.version))).toEqual(new Set([champion]));
    await h.bus.drain();
    expect(h.events.map((e) => e.type)).toEqual(['ctloop.deploy.requested.v1', 'ctloop.deployment.rolled_back.v1']);
    expect(h.events[1]!.causationId).toBe(h.events[0]!.id);
  });

  it('a canary whose server crashes and cannot come back during the period is rolled back on the next check', async () => {
    const flag = join(h.dir, 'canary-sick');
    const fragile = await h.add(M, { bias: 0, weights: { x: 1 }, crashOnPredict: 1, failHealthIf: flag });
    let r = await startRollout(h.deps, { model: M, version: fragile, canaryPercent: 50 });
    expect(r.phase).toBe('canary');
    await writeFile(flag, '');
    await h.traffic(M, 20); // the canary's first request crashes it; its restart never gets healthy
    await vi.waitFor(async () => expect((await h.endpoint.describe(M))!.deployedModels.find((d) => d.version === fragile)!.health).toBe('unhealthy'), { timeout: 20_000, interval: 100 });
    r = (await reconcileRollouts(h.deps))[0]!;
    expect(r.phase).toBe('rolled_back');
    expect(r.reason).toMatch(/the canary is unhealthy: model server failed 2 times in a row/);
    expect(await split()).toEqual({ [champion]: 100 });
  });

  it('with too few canary predictions the period runs to its maximum, then decides on what it has', async () => {
    const quiet = await h.add(M, { bias: 0, weights: { x: 1 } });
    let r = await startRollout(h.deps, { model: M, version: quiet });
    h.advance(1200);
    r = (await reconcileRollouts(h.deps))[0]!;
    expect(r.phase).toBe('canary'); // no predictions yet, below the maximum of 3600 s
    h.advance(2400);
    r = (await reconcileRollouts(h.deps))[0]!;
    expect(r.phase).toBe('promoted');
    expect(r.checks.every((c) => c.status === 'skipped')).toBe(true);
    champion = quiet;
  });

  it('a second version waits for the rollout in progress; `rollback` ends it at once', async () => {
    const a = await h.add(M, { bias: 0, weights: { x: 1 } });
    const b = await h.add(M, { bias: 0, weights: { x: 1 } });
    await startRollout(h.deps, { model: M, version: a });
    await expect(startRollout(h.deps, { model: M, version: b })).rejects.toThrow(/version .* is being rolled out .* must wait/);
    const r = await rollbackNow(h.deps, M);
    expect(r.phase).toBe('rolled_back');
    expect(await split()).toEqual({ [champion]: 100 });
    await expect(rollbackNow(h.deps, M)).rejects.toThrow(/has no rollout in progress/);
  });
});
