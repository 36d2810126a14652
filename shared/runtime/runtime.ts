import { join } from 'node:path';
import { createEventBus } from '../adapters/event-bus/index.js';
import { JOURNAL_FILE } from '../adapters/event-bus/memory/journal.js';
import { createObjectStore } from '../adapters/object-store/index.js';
import { createOnlineStore } from '../adapters/online-store/index.js';
import { createWarehouse } from '../adapters/warehouse/index.js';
import { loadConfig, type Config } from '../config/config.js';
import { checkCredentials, defaultProbes, googleServicesUsed } from '../config/credentials.js';
import { checkStateDir, type StateEntry } from '../config/state-dir.js';
import { loadFeatureRepo, type FeatureRepo } from '../features/definitions.js';
import type { EventBus } from '../ports/event-bus.js';
import type { ObjectStore } from '../ports/object-store.js';
import type { OnlineStore } from '../ports/online-store.js';
import type { Warehouse } from '../ports/warehouse.js';

/** Everything a function, the CLI or the local loop needs, built once from validated configuration. */
export interface Runtime {
  config: Config;
  warehouse: Warehouse;
  objectStore: ObjectStore;
  bus: EventBus;
  /** Latest feature values per entity, for serving (embedded, Firestore or Bigtable). */
  online: OnlineStore;
  repo: FeatureRepo;
  close(): Promise<void>;
}

export interface RuntimeOverrides {
  warehouse?: Warehouse;
  objectStore?: ObjectStore;
  bus?: EventBus;
  online?: OnlineStore;
  repo?: FeatureRepo;
}

export interface RuntimeOptions {
  /**
   * The caller only reads (e.g. `features online`, `dead-letters list`): the state directory needs no write
   * permission and is not created, and DuckDB is opened read-only.
   */
  readOnly?: boolean;
}

/** The entries of the state directory that the adapters built from `config` (and not overridden) will use. */
function stateEntries(config: Config, overrides: RuntimeOverrides): StateEntry[] {
  const out: StateEntry[] = [];
  if (!overrides.warehouse && config.warehouse.kind === 'duckdb') out.push({ path: config.warehouse.path, kind: 'file' });
  if (!overrides.objectStore && config.objectStore.kind === 'local') out.push({ path: config.objectStore.root, kind: 'dir' });
  if (!overrides.online && config.online.kind === 'embedded') out.push({ path: config.online.dir, kind: 'dir' });
  if (!overrides.bus && config.eventBus.kind === 'memory') {
    out.push({ path: config.eventBus.journalDir, kind: 'dir' }, { path: join(config.eventBus.journalDir, JOURNAL_FILE), kind: 'file' });
  }
  return out;
}

/**
 * Checks what the adapters need before building them: the state directory (embedded adapters) and Google
 * credentials (adapters that talk to Google itself), each failing fast with a ConfigError that names the setting.
 */
async function preflight(config: Config, overrides: RuntimeOverrides, opts: RuntimeOptions): Promise<void> {
  const entries = stateEntries(config, overrides);
  if (entries.length > 0) await checkStateDir(config.stateDir, opts.readOnly ? 'read' : 'write', entries);
  await checkCredentials(config, defaultProbes, googleServicesUsed({
    ...(overrides.warehouse ? {} : { warehouse: config.warehouse }),
    ...(overrides.objectStore ? {} : { objectStore: config.objectStore }),
    ...(overrides.bus ? {} : { eventBus: config.eventBus }),
    ...(overrides.online ? {} : { online: config.online }),
  }));
}

export async function createRuntime(config: Config = loadConfig(), overrides: RuntimeOverrides = {}, opts: RuntimeOptions = {}): Promise<Runtime> {
  await preflight(config, overrides, opts);
  const repo = overrides.repo ?? (await loadFeatureRepo(config.featuresFile));
  const warehouse = overrides.warehouse ?? (await createWarehouse(config.warehouse, { readOnly: Boolean(opts.readOnly) }));
  const objectStore = overrides.objectStore ?? createObjectStore(config.objectStore);
  const bus = overrides.bus ?? createEventBus(config.eventBus, config.retry);
  const online = overrides.online ?? (await createOnlineStore(config.online, { readOnly: Boolean(opts.readOnly) }));
  let closed = false;
  return {
    config, warehouse, objectStore, bus, online, repo,
    async close() {
      if (closed) return;
      closed = true;
      if (!overrides.bus) await bus.close();
      if (!overrides.warehouse) await warehouse.close();
      if (!overrides.online) await online.close();
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
