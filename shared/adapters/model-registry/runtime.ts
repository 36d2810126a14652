import type { ModelRegistry } from '../../ports/model-registry.js';
import type { Runtime } from '../../runtime/runtime.js';
import { createModelRegistry } from './index.js';

const registries = new WeakMap<Runtime, Promise<ModelRegistry>>();

/** The model registry of a runtime (configured by CTLOOP_MODEL_REGISTRY), built once per runtime. */
export function registryOf(rt: Runtime): Promise<ModelRegistry> {
  let r = registries.get(rt);
  if (!r) {
    r = createModelRegistry(rt.config.modelRegistry, { warehouse: rt.warehouse, objectStore: rt.objectStore, bucket: rt.config.artifactBucket });
    registries.set(rt, r);
  }
  return r;
}
