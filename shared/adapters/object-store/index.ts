import type { ObjectStoreConfig } from '../../config/config.js';
import type { ObjectStore } from '../../ports/object-store.js';
import { LocalObjectStore } from './local/index.js';

/**
 * The object store chosen by configuration: a local directory (embedded) or Cloud Storage (emulator or GCP).
 * The Cloud Storage client is imported on first use (it costs ~250 ms to load), so embedded runs never pay for it.
 */
export function createObjectStore(config: ObjectStoreConfig): ObjectStore {
  switch (config.kind) {
    case 'local':
      return new LocalObjectStore(config.root);
    case 'gcs':
      return deferred(async () => {
        const { GcsObjectStore } = await import('./gcs/index.js');
        return new GcsObjectStore({ project: config.project, ...(config.apiEndpoint ? { apiEndpoint: config.apiEndpoint } : {}) });
      });
  }
}

/** An ObjectStore whose implementation is built on the first call. */
function deferred(load: () => Promise<ObjectStore>): ObjectStore {
  let p: Promise<ObjectStore> | undefined;
  const s = () => (p ??= load());
  return {
    put: async (uri, body, opts) => (await s()).put(uri, body, opts),
    get: async (uri) => (await s()).get(uri),
    stat: async (uri) => (await s()).stat(uri),
    exists: async (uri) => (await s()).exists(uri),
    list: async (prefix) => (await s()).list(prefix),
    delete: async (uri) => (await s()).delete(uri),
    upload: async (localPath, uri, opts) => (await s()).upload(localPath, uri, opts),
    download: async (uri, localPath) => (await s()).download(uri, localPath),
    localCopy: async (uri) => (await s()).localCopy(uri),
  };
}

export { LocalObjectStore } from './local/index.js';
