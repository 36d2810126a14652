import { createEventBus } from '../adapters/event-bus/index.js';
import { createObjectStore } from '../adapters/object-store/index.js';
import { createWarehouse } from '../adapters/warehouse/index.js';
import { loadConfig, type Config } from '../config/config.js';
import { loadFeatureRepo, type FeatureRepo } from '../features/definitions.js';
import type { EventBus } from '../ports/event-bus.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { Warehouse } from '../ports/warehouse.js';

/** Everything a function, the CLI or the local loop needs, built once from validated configuration. */
export interface Runtime {
  config: Config;
  warehouse: Warehouse;
  objectStore: ObjectStore;
  bus: EventBus;
  repo: FeatureRepo;
  close(): Promise<void>;
}

export interface RuntimeOverrides {
  warehouse?: Warehouse;
  objectStore?: ObjectStore;
  bus?: EventBus;
  repo?: FeatureRepo;
}

export async function createRuntime(config: Config = loadConfig(), overrides: RuntimeOverrides = {}): Promise<Runtime> {
  const repo = overrides.repo ?? (await loadFeatureRepo(config.featuresFile));
  const warehouse = overrides.warehouse ?? (await createWarehouse(config.warehouse));
  const objectStore = overrides.objectStore ?? createObjectStore(config.objectStore);
  const bus = overrides.bus ?? createEventBus(config.eventBus, config.retry);
  let closed = false;
  return {
    config, warehouse, objectStore, bus, repo,
    async close() {
      if (closed) return;
      closed = true;
      if (!overrides.bus) await bus.close();
      if (!overrides.warehouse) await warehouse.close();
    },
  };
}

let shared: Promise<Runtime> | undefined;

/** One runtime per process (a Cloud Functions instance): created on first use, reused by later invocations. */
export function processRuntime(): Promise<Runtime> {
  shared ??= createRuntime().catch((err) => {
    shared = undefined;
    throw err;
  });
  return shared;
}
