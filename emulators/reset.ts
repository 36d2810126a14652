import { PubSub } from '@google-cloud/pubsub';
import type { Config } from '../shared/config/config.js';
import { TransientError } from '../shared/errors.js';
import type { ObjectStore } from '../shared/ports/object-store.js';

/**
 * Empty what a demo leaves in the emulators, so the next run starts clean (its drift windows, requests and model
 * versions are keyed by simulated time): the project's `ctloop-*` subscriptions and topics on the Pub/Sub emulator,
 * the objects of the artifact bucket on the Cloud Storage emulator, and the online store's documents (Firestore
 * emulator: its documented reset endpoint) or rows (Bigtable emulator: the table is dropped, the adapter recreates
 * it). Only emulator state: each step refuses to run without its *_EMULATOR_HOST.
 */
export async function resetEmulatorState(config: Config, objectStore: ObjectStore | null): Promise<{ subscriptions: number; topics: number; objects: number }> {
  let subscriptions = 0;
  let topics = 0;
  let objects = 0;
  if (config.eventBus.kind === 'pubsub' && config.eventBus.emulatorHost) {
    const client = new PubSub({ projectId: config.project, apiEndpoint: config.eventBus.emulatorHost, emulatorMode: true });
    try {
      const [subs] = await client.getSubscriptions();
      for (const s of subs.filter((x) => x.name.split('/').pop()!.startsWith('ctloop-'))) {
        await s.delete().catch(() => undefined);
        subscriptions++;
      }
      const [ts] = await client.getTopics();
      for (const t of ts.filter((x) => x.name.split('/').pop()!.startsWith('ctloop-'))) {
        await t.delete().catch(() => undefined);
        topics++;
      }
    } finally {
      await client.close();
    }
  }
  if (objectStore && config.objectStore.kind === 'gcs' && config.objectStore.apiEndpoint) {
    // A bucket the emulator has not seen yet lists as an error: nothing to delete then.
    const listed = await objectStore.list(`gs://${config.artifactBucket}/`).catch(() => []);
    for (const o of listed) {
      await objectStore.delete(o.uri);
      objects++;
    }
  }
  if (config.online.kind === 'firestore' && config.online.emulatorHost) {
    const url = `http://${config.online.emulatorHost}/emulator/v1/projects/${config.project}/databases/${config.online.database}/documents`;
    const res = await fetch(url, { method: 'DELETE' });
    if (!res.ok) throw new TransientError(`could not clear the Firestore emulator (${res.status} from DELETE ${url})`, { hint: 'restart it: stop `ctloop up`, then start again' });
  }
  if (config.online.kind === 'bigtable' && config.online.emulatorHost) {
    const { Bigtable } = await import('@google-cloud/bigtable');
    const bt = new Bigtable({ projectId: config.project, apiEndpoint: config.online.emulatorHost });
    try {
      await bt.instance(config.online.instance).table(config.online.table).delete().catch(() => undefined);
    } finally {
      await (bt as unknown as { close?: () => Promise<void> }).close?.();
    }
  }
  return { subscriptions, topics, objects };
}
