import { readFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import type { Config, CredentialsConfig } from './config.js';

/**
 * Google credentials, checked once at start-up, before any client library is built.
 *
 * Without this check, a client with no credentials falls through Application Default Credentials to the GCE
 * metadata server: off Google Cloud that probe takes seconds, Node prints a `MetadataLookupWarning`, and the
 * request then fails as "BigQuery is busy… retried" after more seconds of backoff. Here the same ADC order is
 * followed (google-auth-library `getApplicationDefaultAsync`), but the metadata server is only asked where it can
 * answer: GOOGLE_APPLICATION_CREDENTIALS → gcloud's ADC file → the metadata server, which is assumed on Cloud
 * Run / Cloud Functions (K_SERVICE, FUNCTION_TARGET…), pinged with a short timeout on a Compute Engine machine, and
 * governed by METADATA_SERVER_DETECTION (google-auth-library's own switch) when that is set.
 */
export type CredentialSource =
  | { kind: 'GOOGLE_APPLICATION_CREDENTIALS'; path: string; type: string }
  | { kind: 'gcloud'; path: string; type: string }
  | { kind: 'metadata-server'; why: string };

export interface CredentialProbes {
  /** Whether this machine is a Compute Engine instance (BIOS vendor, MAC prefix): local checks, no network. */
  onComputeEngine(): Promise<boolean>;
  /** Whether the metadata server answers within `timeoutMs`. */
  metadataServerAnswers(host: string, timeoutMs: number): Promise<boolean>;
}

const PING_TIMEOUT_MS = 1000;

/** Which adapters talk to Google itself (not an emulator or a local stand-in) and so need credentials. */
export function googleServicesUsed(config: Partial<Pick<Config, 'warehouse' | 'objectStore' | 'eventBus' | 'online'>>): string[] {
  const out: string[] = [];
  if (config.warehouse?.kind === 'bigquery' && !config.warehouse.apiEndpoint?.startsWith('http://')) out.push('BigQuery');
  if (config.objectStore?.kind === 'gcs' && !config.objectStore.apiEndpoint) out.push('Cloud Storage');
  if (config.eventBus?.kind === 'pubsub' && !config.eventBus.emulatorHost) out.push('Pub/Sub');
  if (config.online?.kind === 'firestore' && !config.online.emulatorHost) out.push('Firestore');
  if (config.online?.kind === 'bigtable' && !config.online.emulatorHost) out.push('Bigtable');
  return out;
}

function noCredentials(c: CredentialsConfig, project: string, services: string[], looked: string[]): ConfigError {
  return new ConfigError(`no Google Cloud credentials found for ${services.join(', ')} (project ${project})`, {
    hint: 'run `gcloud auth application-default login`, or export GOOGLE_APPLICATION_CREDENTIALS=/path/to/key.json; '
      + 'check GOOGLE_CLOUD_PROJECT; to run without Google Cloud use CTLOOP_MODE=embedded (or emulators)',
    details: { variable: 'GOOGLE_APPLICATION_CREDENTIALS', project, services, looked, ...(c.metadataServerDetection ? { METADATA_SERVER_DETECTION: c.metadataServerDetection } : {}) },
  });
}

/** Reads a credentials JSON file and checks that google-auth-library can build a client from it. */
async function credentialFile(path: string, variable: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(`${variable} file ${path} cannot be read (${code ?? (err as Error).message})`, {
      hint: variable === 'GOOGLE_APPLICATION_CREDENTIALS'
        ? 'point GOOGLE_APPLICATION_CREDENTIALS at an existing key file, or unset it and run `gcloud auth application-default login`'
        : 'run `gcloud auth application-default login` again',
      details: { variable, path, code }, cause: err,
    });
  }
  const bad = (why: string, cause?: unknown) => new ConfigError(`${variable} file ${path} is not a Google credentials file: ${why}`, {
    hint: 'download a service-account key (JSON) or run `gcloud auth application-default login`',
    details: { variable, path }, ...(cause ? { cause } : {}),
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw bad('it is not JSON', err);
  }
  if (typeof json !== 'object' || json === null || typeof (json as { type?: unknown }).type !== 'string') throw bad('it has no "type"');
  const { GoogleAuth } = await import('google-auth-library');
  try {
    new GoogleAuth().fromJSON(json as never);
  } catch (err) {
    throw bad((err as Error).message, err);
  }
  return (json as { type: string }).type;
}

/** Finds the credentials the Google clients will use, or throws ConfigError naming how to provide them. Fast: < 2 s. */
export async function findCredentials(c: CredentialsConfig, ctx: { project: string; services: string[] }, probes: CredentialProbes = defaultProbes): Promise<CredentialSource> {
  const looked: string[] = [];
  if (c.applicationCredentials) {
    return { kind: 'GOOGLE_APPLICATION_CREDENTIALS', path: c.applicationCredentials, type: await credentialFile(c.applicationCredentials, 'GOOGLE_APPLICATION_CREDENTIALS') };
  }
  looked.push('GOOGLE_APPLICATION_CREDENTIALS (unset)');
  if (c.gcloudAdcFile) {
    const exists = await readFile(c.gcloudAdcFile).then(() => true, () => false);
    if (exists) return { kind: 'gcloud', path: c.gcloudAdcFile, type: await credentialFile(c.gcloudAdcFile, 'gcloud ADC') };
    looked.push(`${c.gcloudAdcFile} (absent)`);
  } else {
    looked.push('gcloud ADC file (no HOME or CLOUDSDK_CONFIG)');
  }
  const detection = c.metadataServerDetection;
  if (detection === 'assume-present') return { kind: 'metadata-server', why: 'METADATA_SERVER_DETECTION=assume-present' };
  if (detection === 'none') {
    looked.push('metadata server (METADATA_SERVER_DETECTION=none)');
    throw noCredentials(c, ctx.project, ctx.services, looked);
  }
  if (detection === undefined && c.serverless) return { kind: 'metadata-server', why: 'running on Cloud Run / Cloud Functions' };
  const resident = c.serverless || (await probes.onComputeEngine());
  if (detection === 'bios-only') {
    if (resident) return { kind: 'metadata-server', why: 'on Google Cloud (METADATA_SERVER_DETECTION=bios-only)' };
    looked.push('metadata server (not on Google Cloud, METADATA_SERVER_DETECTION=bios-only)');
    throw noCredentials(c, ctx.project, ctx.services, looked);
  }
  // Ping only where the server can exist (or when METADATA_SERVER_DETECTION=ping-only asks for it).
  if (resident || detection === 'ping-only') {
    if (await probes.metadataServerAnswers(c.metadataHost, PING_TIMEOUT_MS)) return { kind: 'metadata-server', why: `metadata server at ${c.metadataHost} answered` };
    looked.push(`metadata server at ${c.metadataHost} (no answer within ${PING_TIMEOUT_MS} ms)`);
  } else {
    looked.push('metadata server (not on Google Cloud)');
  }
  throw noCredentials(c, ctx.project, ctx.services, looked);
}

export const defaultProbes: CredentialProbes = {
  async onComputeEngine() {
    const { gcpMetadata } = await import('google-auth-library');
    return gcpMetadata.isGoogleComputeEngine();
  },
  async metadataServerAnswers(host, timeoutMs) {
    try {
      const res = await fetch(`http://${host}/computeMetadata/v1/instance`, {
        headers: { 'Metadata-Flavor': 'Google' }, signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body?.cancel();
      return res.headers.get('metadata-flavor') === 'Google';
    } catch {
      return false;
    }
  },
};

/** The start-up check: a no-op unless an adapter talks to Google itself (`services`, default: from `config`). */
export async function checkCredentials(config: Config, probes: CredentialProbes = defaultProbes, services = googleServicesUsed(config)): Promise<CredentialSource | undefined> {
  if (services.length === 0) return undefined;
  return findCredentials(config.credentials, { project: config.project, services }, probes);
}
