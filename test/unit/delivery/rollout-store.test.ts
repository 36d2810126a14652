import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../shared/errors.js';
import { RolloutStore } from '../../../shared/delivery/rollout-store.js';
import type { ObjectStore } from '../../../shared/ports/object-store.js';

/**
 * A reader of the active rollout races the function that finishes it (history written, active object deleted): the
 * object can vanish between `exists` and `get`. Seen over the Cloud Storage emulator (`ctloop demo --emulators`).
 */
describe('RolloutStore.get', () => {
  it('reads a rollout deleted between exists and get as none, not as an error', async () => {
    const objects = {
      exists: async () => true,
      get: async (uri: string) => { throw new NotFoundError(`object ${uri} does not exist`); },
    } as unknown as ObjectStore;
    await expect(new RolloutStore(objects, 'b').get('m')).resolves.toBeNull();
  });

  it('still throws any other read failure', async () => {
    const objects = { exists: async () => true, get: async () => { throw new Error('connection reset'); } } as unknown as ObjectStore;
    await expect(new RolloutStore(objects, 'b').get('m')).rejects.toThrow(/connection reset/);
  });
});
