import type { OnlineStoreConfig } from '../../config/config.js';
import type { OnlineStore } from '../../ports/online-store.js';

/**
 * The online store chosen by configuration. Cloud clients are loaded only when used (fast embedded start-up).
 * `readOnly` opens the embedded store without locking or compacting it (commands that only read).
 */
export async function createOnlineStore(config: OnlineStoreConfig, opts: { readOnly?: boolean } = {}): Promise<OnlineStore> {
  switch (config.kind) {
    case 'embedded': {
      const { EmbeddedOnlineStore } = await import('./embedded/index.js');
      return EmbeddedOnlineStore.open({ dir: config.dir, ...(opts.readOnly ? { readOnly: true } : {}) });
    }
    case 'firestore': {
      const { FirestoreOnlineStore } = await import('./firestore/index.js');
      return new FirestoreOnlineStore(config);
    }
    case 'bigtable': {
      const { BigtableOnlineStore } = await import('./bigtable/index.js');
      return new BigtableOnlineStore(config);
    }
  }
}
