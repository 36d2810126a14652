import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { testRepoInput } from '../helpers/feature-fixtures.js';

const run = promisify(execFile);
const bin = new URL('../../bin/ctloop.mjs', import.meta.url).pathname;

/** Variables that would give the child credentials, an emulator or a GCP residency it must not have here. */
const STRIP = /^(CTLOOP_|GOOGLE_|CLOUDSDK_|GCE_METADATA|METADATA_SERVER_DETECTION$|K_SERVICE$|FUNCTION_|CLOUD_RUN_JOB$|PUBSUB_EMULATOR_HOST$|STORAGE_EMULATOR_HOST$)/;

/** gcp mode without credentials: one ConfigError at start naming how to provide them, and --format json stays JSON. */
describe('ctloop in gcp mode without credentials', () => {
  let dir: string;
  let base: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-gcpcreds-'));
    await writeFile(join(dir, 'features.yaml'), stringify(testRepoInput));
    base = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !STRIP.test(k))),
      HOME: dir, // no ~/.config/gcloud/application_default_credentials.json
      CTLOOP_MODE: 'gcp', GOOGLE_CLOUD_PROJECT: 'my-proj-123', CTLOOP_ARTIFACT_BUCKET: 'bkt-1', CTLOOP_FEATURES: join(dir, 'features.yaml'),
    };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const ctloop = (env: NodeJS.ProcessEnv, ...args: string[]) =>
    run(process.execPath, [bin, ...args], { env, cwd: dir }).then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);

  // Default detection, and google-auth-library's own switch; a closed local port stands in for the metadata server
  // so that even on a Compute Engine machine nothing reaches the real one.
  for (const detection of [undefined, 'none']) {
    it(`fails with CONFIG_INVALID naming GOOGLE_APPLICATION_CREDENTIALS and gcloud (METADATA_SERVER_DETECTION=${detection ?? 'unset'})`, async () => {
      const env = { ...base, GCE_METADATA_HOST: '127.0.0.1:1', ...(detection ? { METADATA_SERVER_DETECTION: detection } : {}) };
      const r = await ctloop(env, '--format', 'json', 'features', 'online', '--view', 'route_stats', '--key', 'origin=SFO', '--key', 'dest=LAX');
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toMatch(/MetadataLookupWarning/);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      const err = JSON.parse(lines[0]!) as { error: string; message: string; hint: string; details: { variable: string } };
      expect(err.error).toBe('CONFIG_INVALID');
      expect(err.message).toMatch(/^no Google Cloud credentials found for BigQuery, Cloud Storage, Pub\/Sub, Firestore \(project my-proj-123\)/);
      expect(err.hint).toMatch(/gcloud auth application-default login/);
      expect(err.hint).toMatch(/GOOGLE_APPLICATION_CREDENTIALS/);
      expect(err.details.variable).toBe('GOOGLE_APPLICATION_CREDENTIALS');
    });
  }

  it('names a GOOGLE_APPLICATION_CREDENTIALS file that does not exist, in text output', async () => {
    const r = await ctloop({ ...base, GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'key.json') }, 'dead-letters', 'list');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`error: GOOGLE_APPLICATION_CREDENTIALS file ${join(dir, 'key.json')} cannot be read (ENOENT)\n  fix: point GOOGLE_APPLICATION_CREDENTIALS at an existing key file, or unset it and run \`gcloud auth application-default login\`\n`);
  });
});
