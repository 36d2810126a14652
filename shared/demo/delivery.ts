import { createEndpoint } from '../adapters/endpoint/index.js';
import { registryOf } from '../adapters/model-registry/runtime.js';
import { loadDeliveryConfig, type CanaryPolicy } from '../delivery/config.js';
import { provideDelivery } from '../delivery/runtime.js';
import type { Runtime } from '../runtime/runtime.js';

/**
 * The demo's canary policy, on simulated time: a week of the replay passes in seconds, so the period is counted in
 * simulated days and in live predictions (the serving hook sends each week's departures through /predict). The
 * checks and their thresholds are the documented defaults (shared/delivery/config.ts); only the share and the
 * period are the demo's, so that a canary sees enough traffic within the replayed weeks.
 */
export function demoCanaryPolicy(defaults: CanaryPolicy, quick: boolean): CanaryPolicy {
  return { ...defaults, percent: 25, minSeconds: 3 * 86_400, minPredictions: quick ? 100 : 200, maxSeconds: 14 * 86_400 };
}

/**
 * Give the runtime its delivery before any function runs: the endpoint of the environment's settings, the demo's
 * canary policy, and the simulated clock as the rollout steps' clock (deploy-model and reconcile-deployments then
 * date the canary period, its decision and their events in simulated time).
 */
export async function provideDemoDelivery(rt: Runtime, now: () => Date, quick: boolean): Promise<CanaryPolicy> {
  const config = loadDeliveryConfig(rt.config);
  const endpoint = await createEndpoint(config.endpoint, { registry: await registryOf(rt), objectStore: rt.objectStore, bucket: rt.config.artifactBucket });
  const canary = demoCanaryPolicy(config.canary, quick);
  provideDelivery(rt, { config: { ...config, canary }, endpoint, now });
  return canary;
}
