import { createEndpoint, type ClosableEndpoint } from '../adapters/endpoint/index.js';
import { registryOf } from '../adapters/model-registry/runtime.js';
import type { Runtime } from '../runtime/runtime.js';
import { loadDeliveryConfig, type DeliveryConfig } from './config.js';
import type { DeliveryDeps } from './rollout.js';

/**
 * Delivery of a runtime: its settings (read once), endpoint (built once, its servers stopped with the runtime) and
 * the dependencies of the rollout steps. `now` is the clock of the steps; tests inject theirs.
 */
export interface Delivery {
  config: DeliveryConfig;
  endpoint: ClosableEndpoint;
  /** The clock of the rollout steps when a caller gives none (the demo's simulated clock); default the wall clock. */
  now?: () => Date;
}

const cache = new WeakMap<Runtime, Promise<Delivery>>();

/**
 * Give a runtime its delivery settings and endpoint instead of building them from the environment (tests: an
 * endpoint running stand-in model servers, a canary policy). Call before the runtime's first delivery use.
 */
export function provideDelivery(rt: Runtime, delivery: Delivery): void {
  cache.set(rt, Promise.resolve(delivery));
  const close = rt.close.bind(rt);
  rt.close = async () => {
    await delivery.endpoint.close();
    await close();
  };
}

export function deliveryOf(rt: Runtime): Promise<Delivery> {
  let d = cache.get(rt);
  if (!d) {
    d = (async () => {
      const config = loadDeliveryConfig(rt.config);
      const registry = await registryOf(rt);
      const endpoint = await createEndpoint(config.endpoint, { registry, objectStore: rt.objectStore, bucket: rt.config.artifactBucket });
      const close = rt.close.bind(rt);
      rt.close = async () => {
        await endpoint.close();
        await close();
      };
      return { config, endpoint };
    })();
    d.catch(() => cache.delete(rt));
    cache.set(rt, d);
  }
  return d;
}

export async function deliveryDeps(rt: Runtime, source: string, now?: () => Date): Promise<DeliveryDeps> {
  const { config, endpoint, now: provided } = await deliveryOf(rt);
  return {
    endpoint, registry: await registryOf(rt), warehouse: rt.warehouse, objectStore: rt.objectStore, bucket: rt.config.artifactBucket,
    bus: rt.bus, policy: config.canary, now: now ?? provided ?? (() => new Date()), source,
  };
}
