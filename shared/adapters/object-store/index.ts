import type { ObjectStoreConfig } from '../../config/config.js';
import type { ObjectStore } from '../../ports/object-store.js';
import { GcsObjectStore } from './gcs/index.js';
import { LocalObjectStore } from './local/index.js';

/** The object store chosen by configuration: a local directory (embedded) or Cloud Storage (emulator or GCP). */
export function createObjectStore(config: ObjectStoreConfig): ObjectStore {
  switch (config.kind) {
    case 'local':
      return new LocalObjectStore(config.root);
    case 'gcs':
      return new GcsObjectStore({ project: config.project, ...(config.apiEndpoint ? { apiEndpoint: config.apiEndpoint } : {}) });
  }
}

export { GcsObjectStore } from './gcs/index.js';
export { LocalObjectStore } from './local/index.js';
