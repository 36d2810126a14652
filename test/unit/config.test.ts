import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/config.js';

describe('config', () => {
  it('defaults to embedded adapters under .ctloop', () => {
    const c = loadConfig({}, '/work/x');
    expect(c).toMatchObject({
      mode: 'embedded', stateDir: '/work/x/.ctloop', featuresFile: '/work/x/features.yaml', project: 'ctloop-local',
      warehouse: { kind: 'duckdb', path: '/work/x/.ctloop/warehouse.duckdb' },
      objectStore: { kind: 'local', root: '/work/x/.ctloop/objects' },
      eventBus: { kind: 'memory' },
      retry: { maxDeliveryAttempts: 5 },
    });
  });

  it('selects GCP adapters in gcp mode and requires the project and bucket, naming the variable', () => {
    expect(() => loadConfig({ CTLOOP_MODE: 'gcp' })).toThrow(/GOOGLE_CLOUD_PROJECT is required in gcp mode/);
    expect(() => loadConfig({ CTLOOP_MODE: 'gcp', GOOGLE_CLOUD_PROJECT: 'my-proj-1' })).toThrow(/CTLOOP_ARTIFACT_BUCKET is required/);
    const c = loadConfig({ CTLOOP_MODE: 'gcp', GOOGLE_CLOUD_PROJECT: 'my-proj-1', CTLOOP_ARTIFACT_BUCKET: 'my-bucket' });
    expect(c.warehouse).toEqual({ kind: 'bigquery', project: 'my-proj-1', dataset: 'ctloop', location: 'US' });
    expect(c.objectStore).toEqual({ kind: 'gcs', project: 'my-proj-1' });
    expect(c.eventBus).toEqual({ kind: 'pubsub', project: 'my-proj-1' });
  });

  it('needs emulator hosts in emulators mode and refuses them in gcp mode', () => {
    expect(() => loadConfig({ CTLOOP_MODE: 'emulators' })).toThrow(/PUBSUB_EMULATOR_HOST is required/);
    const c = loadConfig({ CTLOOP_MODE: 'emulators', PUBSUB_EMULATOR_HOST: '127.0.0.1:8085', STORAGE_EMULATOR_HOST: 'http://127.0.0.1:9199' });
    expect(c.eventBus).toEqual({ kind: 'pubsub', project: 'ctloop-local', emulatorHost: '127.0.0.1:8085' });
    expect(c.warehouse.kind).toBe('duckdb');
    expect(() => loadConfig({ CTLOOP_MODE: 'gcp', GOOGLE_CLOUD_PROJECT: 'my-proj-1', CTLOOP_ARTIFACT_BUCKET: 'b-1', PUBSUB_EMULATOR_HOST: 'x:1' })).toThrow(/emulator hosts are set in gcp mode/);
  });

  it('picks the online store: embedded by default, Firestore on gcp, Bigtable when asked, emulator hosts where needed', () => {
    expect(loadConfig({ CTLOOP_STATE_DIR: '/s' }, '/').online).toEqual({ kind: 'embedded', dir: '/s/online' });
    const gcp = { CTLOOP_MODE: 'gcp', GOOGLE_CLOUD_PROJECT: 'my-proj-1', CTLOOP_ARTIFACT_BUCKET: 'b-1' };
    expect(loadConfig(gcp).online).toEqual({ kind: 'firestore', project: 'my-proj-1', database: '(default)' });
    expect(loadConfig({ ...gcp, CTLOOP_ONLINE_STORE: 'bigtable' }).online).toEqual({ kind: 'bigtable', project: 'my-proj-1', instance: 'ctloop', table: 'ctloop_online' });
    expect(() => loadConfig({ ...gcp, FIRESTORE_EMULATOR_HOST: '127.0.0.1:8086' })).toThrow(/emulator hosts are set in gcp mode/);
    const emu = { CTLOOP_MODE: 'emulators', PUBSUB_EMULATOR_HOST: '127.0.0.1:8085', STORAGE_EMULATOR_HOST: 'http://127.0.0.1:9199' };
    expect(() => loadConfig({ ...emu, CTLOOP_ONLINE_STORE: 'firestore' })).toThrow(/FIRESTORE_EMULATOR_HOST is required in emulators mode/);
    expect(() => loadConfig({ ...emu, CTLOOP_ONLINE_STORE: 'bigtable' })).toThrow(/BIGTABLE_EMULATOR_HOST is required in emulators mode/);
    expect(loadConfig({ ...emu, CTLOOP_ONLINE_STORE: 'firestore', FIRESTORE_EMULATOR_HOST: '127.0.0.1:8086' }).online).toEqual({ kind: 'firestore', project: 'ctloop-local', database: '(default)', emulatorHost: '127.0.0.1:8086' });
    expect(() => loadConfig({ CTLOOP_ONLINE_STORE: 'redis' })).toThrow(/CTLOOP_ONLINE_STORE="redis" is invalid: must be embedded, firestore or bigtable/);
    expect(() => loadConfig({ BIGTABLE_EMULATOR_HOST: 'http://x:1' })).toThrow(/BIGTABLE_EMULATOR_HOST="http:\/\/x:1" is invalid: must be host:port/);
  });

  it('rejects invalid values with the variable name and a hint', () => {
    expect(() => loadConfig({ CTLOOP_MODE: 'cloud' })).toThrow(/CTLOOP_MODE="cloud" is invalid/);
    expect(() => loadConfig({ CTLOOP_MAX_DELIVERY_ATTEMPTS: '2' })).toThrow(/CTLOOP_MAX_DELIVERY_ATTEMPTS="2" is invalid: Pub\/Sub allows 5..100/);
    expect(() => loadConfig({ PUBSUB_EMULATOR_HOST: 'http://x' })).toThrow(/PUBSUB_EMULATOR_HOST/);
    expect(() => loadConfig({ CTLOOP_DUCKDB_MEMORY_LIMIT: 'lots' })).toThrow(/CTLOOP_DUCKDB_MEMORY_LIMIT="lots" is invalid: must be a size/);
    expect(loadConfig({ CTLOOP_DUCKDB_MEMORY_LIMIT: '512MB' }, '/w').warehouse).toEqual({ kind: 'duckdb', path: '/w/.ctloop/warehouse.duckdb', memoryLimit: '512MB' });
    try {
      loadConfig({ CTLOOP_WAREHOUSE: 'postgres' });
    } catch (e) {
      expect((e as { code: string; details: { variable: string } }).details.variable).toBe('CTLOOP_WAREHOUSE');
    }
  });

  it('lets each port be overridden on its own', () => {
    const c = loadConfig({ CTLOOP_WAREHOUSE: 'bigquery', CTLOOP_BIGQUERY_ENDPOINT: 'http://127.0.0.1:9050' });
    expect(c.warehouse).toMatchObject({ kind: 'bigquery', apiEndpoint: 'http://127.0.0.1:9050' });
    expect(c.eventBus.kind).toBe('memory');
  });
});
