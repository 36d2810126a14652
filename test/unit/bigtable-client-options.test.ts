import { describe, expect, it } from 'vitest';
import { BigtableOnlineStore } from '../../shared/adapters/online-store/bigtable/index.js';

/**
 * The Bigtable client exports client-side metrics to Cloud Monitoring every 60 s with Application Default
 * Credentials. Against the emulator there are none: a minute into `ctloop up --emulators --online bigtable` the
 * export failed with NO_ADC_FOUND. On the emulator the adapter turns the metrics off; on Google Cloud it keeps the
 * client's default. (The client keeps its handlers in a private field; this reads it to see which applies.)
 */
const handlers = (store: BigtableOnlineStore): unknown[] =>
  (store as unknown as { client: { _metricsConfigManager: { metricsHandlers: unknown[] } } }).client._metricsConfigManager.metricsHandlers;

describe('Bigtable online store: client options', () => {
  it('sends no client-side metrics when it talks to the emulator', () => {
    const store = new BigtableOnlineStore({ project: 'ctloop-local', instance: 'i', table: 't', emulatorHost: '127.0.0.1:1' });
    expect(handlers(store)).toEqual([]);
  });

  it("keeps the client's metrics on Google Cloud", () => {
    const store = new BigtableOnlineStore({ project: 'p', instance: 'i', table: 't' });
    expect(handlers(store).length).toBe(1);
  });
});
