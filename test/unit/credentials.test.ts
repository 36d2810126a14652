import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/config.js';
import { checkCredentials, findCredentials, type CredentialProbes } from '../../shared/config/credentials.js';
import { ConfigError } from '../../shared/errors.js';

const gcp = { CTLOOP_MODE: 'gcp', GOOGLE_CLOUD_PROJECT: 'my-proj-123', CTLOOP_ARTIFACT_BUCKET: 'bkt-1' };
const authorizedUser = { type: 'authorized_user', client_id: 'x.apps.googleusercontent.com', client_secret: 's', refresh_token: 'r' };

/** Probes that record their calls; `throws` makes any call fail the test (a probe where none may happen). */
function probes(answer: { gce?: boolean; ping?: boolean; throws?: boolean } = {}) {
  const calls: string[] = [];
  const p: CredentialProbes = {
    async onComputeEngine() {
      calls.push('gce');
      if (answer.throws) throw new Error('no residency probe expected');
      return Boolean(answer.gce);
    },
    async metadataServerAnswers(host, timeoutMs) {
      calls.push(`ping ${host} ${timeoutMs}`);
      if (answer.throws) throw new Error('no metadata probe expected');
      return Boolean(answer.ping);
    },
  };
  return { p, calls };
}

describe('Google credentials check (gcp mode)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-creds-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const config = (env: Record<string, string>) => loadConfig({ ...gcp, HOME: join(dir, 'empty-home'), ...env }, dir, 'linux');

  it('fails with a ConfigError naming GOOGLE_APPLICATION_CREDENTIALS and gcloud when there are none, off Google Cloud, without pinging', async () => {
    const { p, calls } = probes({ gce: false });
    const err = await checkCredentials(config({}), p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.message).toBe('no Google Cloud credentials found for BigQuery, Cloud Storage, Pub/Sub, Firestore (project my-proj-123)');
    expect(e.hint).toMatch(/gcloud auth application-default login/);
    expect(e.hint).toMatch(/GOOGLE_APPLICATION_CREDENTIALS=/);
    expect(e.hint).toMatch(/GOOGLE_CLOUD_PROJECT/);
    expect(e.details).toMatchObject({ variable: 'GOOGLE_APPLICATION_CREDENTIALS', looked: expect.arrayContaining([join(dir, 'empty-home', '.config', 'gcloud', 'application_default_credentials.json') + ' (absent)']) });
    expect(calls).toEqual(['gce']);
  });

  it('respects METADATA_SERVER_DETECTION: none never probes, assume-present trusts, bios-only and ping-only probe one way', async () => {
    const none = probes({ throws: true });
    await expect(checkCredentials(config({ METADATA_SERVER_DETECTION: 'none' }), none.p)).rejects.toThrow(ConfigError);
    expect(none.calls).toEqual([]);
    const assume = probes({ throws: true });
    await expect(checkCredentials(config({ METADATA_SERVER_DETECTION: 'Assume-Present' }), assume.p)).resolves.toMatchObject({ kind: 'metadata-server' });
    const bios = probes({ gce: true });
    await expect(checkCredentials(config({ METADATA_SERVER_DETECTION: 'bios-only' }), bios.p)).resolves.toMatchObject({ kind: 'metadata-server' });
    expect(bios.calls).toEqual(['gce']);
    const ping = probes({ gce: false, ping: false });
    await expect(checkCredentials(config({ METADATA_SERVER_DETECTION: 'ping-only', GCE_METADATA_HOST: '127.0.0.1:1' }), ping.p)).rejects.toThrow(/no Google Cloud credentials/);
    expect(ping.calls).toEqual(['gce', 'ping 127.0.0.1:1 1000']);
    expect(() => config({ METADATA_SERVER_DETECTION: 'sometimes' })).toThrow(/METADATA_SERVER_DETECTION="sometimes" is invalid/);
  });

  it('uses the metadata server on Cloud Functions / Cloud Run without probing, and pings it (short timeout) on Compute Engine', async () => {
    for (const v of ['K_SERVICE', 'FUNCTION_TARGET', 'FUNCTION_NAME', 'CLOUD_RUN_JOB']) {
      const fn = probes({ throws: true });
      await expect(checkCredentials(config({ [v]: 'ingest-features' }), fn.p)).resolves.toMatchObject({ kind: 'metadata-server' });
    }
    const vm = probes({ gce: true, ping: true });
    await expect(checkCredentials(config({}), vm.p)).resolves.toMatchObject({ kind: 'metadata-server' });
    expect(vm.calls).toEqual(['gce', 'ping 169.254.169.254 1000']);
    const vmNoServer = probes({ gce: true, ping: false });
    await expect(checkCredentials(config({}), vmNoServer.p)).rejects.toThrow(ConfigError);
  });

  it('finds GOOGLE_APPLICATION_CREDENTIALS and gcloud ADC files, and names a missing or broken one', async () => {
    const key = join(dir, 'key.json');
    await writeFile(key, JSON.stringify(authorizedUser));
    const { p, calls } = probes({ throws: true });
    await expect(checkCredentials(config({ GOOGLE_APPLICATION_CREDENTIALS: key }), p)).resolves.toEqual({ kind: 'GOOGLE_APPLICATION_CREDENTIALS', path: key, type: 'authorized_user' });
    await expect(checkCredentials(config({ GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'nope.json') }), p))
      .rejects.toThrow(/GOOGLE_APPLICATION_CREDENTIALS file .*nope\.json cannot be read \(ENOENT\)/);
    await writeFile(join(dir, 'bad.json'), '{"type": "service_account"}');
    await expect(checkCredentials(config({ GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'bad.json') }), p))
      .rejects.toThrow(/bad\.json is not a Google credentials file: .*client_email/);
    await writeFile(join(dir, 'text.json'), 'hello');
    await expect(checkCredentials(config({ GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'text.json') }), p)).rejects.toThrow(/is not JSON/);
    const gcloudDir = join(dir, 'gcloud');
    await mkdir(gcloudDir, { recursive: true });
    await writeFile(join(gcloudDir, 'application_default_credentials.json'), JSON.stringify(authorizedUser));
    await expect(checkCredentials(config({ CLOUDSDK_CONFIG: gcloudDir }), p)).resolves.toMatchObject({ kind: 'gcloud', type: 'authorized_user' });
    expect(calls).toEqual([]);
  });

  it('looks for gcloud ADC where google-auth-library does (CLOUDSDK_CONFIG, then APPDATA on Windows, then HOME)', () => {
    expect(loadConfig({ HOME: '/h' }, '/w', 'linux').credentials.gcloudAdcFile).toBe('/h/.config/gcloud/application_default_credentials.json');
    expect(loadConfig({ HOME: '/h', CLOUDSDK_CONFIG: '/c' }, '/w', 'linux').credentials.gcloudAdcFile).toBe('/c/application_default_credentials.json');
    expect(loadConfig({ APPDATA: '/a' }, '/w', 'win32').credentials.gcloudAdcFile).toBe('/a/gcloud/application_default_credentials.json');
    expect(loadConfig({}, '/w', 'linux').credentials.gcloudAdcFile).toBeUndefined();
  });

  it('needs no credentials for emulators and local stand-ins, and none in embedded mode', async () => {
    const { p, calls } = probes({ throws: true });
    const emulators = loadConfig({
      CTLOOP_MODE: 'emulators', PUBSUB_EMULATOR_HOST: '127.0.0.1:8085', STORAGE_EMULATOR_HOST: 'http://127.0.0.1:9199',
      CTLOOP_WAREHOUSE: 'bigquery', CTLOOP_BIGQUERY_ENDPOINT: 'http://127.0.0.1:9050', METADATA_SERVER_DETECTION: 'none',
    }, dir, 'linux');
    await expect(checkCredentials(emulators, p)).resolves.toBeUndefined();
    await expect(checkCredentials(loadConfig({ METADATA_SERVER_DETECTION: 'none' }, dir, 'linux'), p)).resolves.toBeUndefined();
    expect(calls).toEqual([]);
    // An emulators run against real BigQuery does need them, and says so for BigQuery only.
    const realBq = loadConfig({ CTLOOP_MODE: 'emulators', PUBSUB_EMULATOR_HOST: '127.0.0.1:8085', STORAGE_EMULATOR_HOST: 'http://127.0.0.1:9199', CTLOOP_WAREHOUSE: 'bigquery', METADATA_SERVER_DETECTION: 'none' }, dir, 'linux');
    await expect(checkCredentials(realBq, p)).rejects.toThrow('no Google Cloud credentials found for BigQuery (project ctloop-local)');
  });

  it('findCredentials takes GOOGLE_APPLICATION_CREDENTIALS before the gcloud file', async () => {
    const key = join(dir, 'first.json');
    await writeFile(key, JSON.stringify(authorizedUser));
    const src = await findCredentials({ applicationCredentials: key, gcloudAdcFile: join(dir, 'gcloud', 'application_default_credentials.json'), serverless: false, metadataHost: 'x' }, { project: 'p', services: ['BigQuery'] }, probes({ throws: true }).p);
    expect(src).toMatchObject({ kind: 'GOOGLE_APPLICATION_CREDENTIALS', path: key });
  });
});
