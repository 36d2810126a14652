import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

/**
 * Configuration is read once from the environment, validated, and injected; nothing else reads process.env.
 * `CTLOOP_MODE` picks defaults for every adapter; each port can still be overridden on its own.
 *
 * | variable                    | default                                   | meaning                                   |
 * |-----------------------------|-------------------------------------------|-------------------------------------------|
 * | CTLOOP_MODE                 | embedded                                  | embedded, emulators or gcp                |
 * | CTLOOP_STATE_DIR            | .ctloop                                   | DuckDB file, local objects, bus journal   |
 * | CTLOOP_FEATURES             | features.yaml                             | feature definitions file                  |
 * | CTLOOP_WAREHOUSE            | duckdb (bigquery in gcp)                  | duckdb or bigquery                        |
 * | CTLOOP_OBJECT_STORE         | local (gcs in emulators, gcp)             | local or gcs                              |
 * | CTLOOP_EVENT_BUS            | memory (pubsub in emulators, gcp)         | memory or pubsub                          |
 * | GOOGLE_CLOUD_PROJECT        | ctloop-local outside gcp                  | project id                                |
 * | CTLOOP_REGION               | us-central1                               | Vertex AI / functions region              |
 * | CTLOOP_BQ_DATASET           | ctloop                                    | BigQuery dataset of the feature store     |
 * | CTLOOP_BQ_LOCATION          | US                                        | BigQuery location                         |
 * | CTLOOP_BIGQUERY_ENDPOINT    | (Google's)                                | BigQuery API base URL (tests)             |
 * | CTLOOP_ARTIFACT_BUCKET      | ctloop-artifacts outside gcp              | bucket for artifacts, reports, exports    |
 * | PUBSUB_EMULATOR_HOST        | required in emulators mode                | host:port of the Pub/Sub emulator         |
 * | STORAGE_EMULATOR_HOST       | required when gcs in emulators mode       | http://host:port of the GCS emulator      |
 * | CTLOOP_MAX_DELIVERY_ATTEMPTS| 5                                         | attempts before dead-letter               |
 * | CTLOOP_MIN_BACKOFF_MS       | 1000 (100 embedded)                       | first retry delay                         |
 * | CTLOOP_DUCKDB_MEMORY_LIMIT  | DuckDB's (80% of RAM)                     | DuckDB buffer pool, e.g. 512MB            |
 * | CTLOOP_ONLINE_STORE         | embedded (firestore in gcp)               | embedded, firestore or bigtable           |
 * | CTLOOP_FIRESTORE_DATABASE   | (default)                                 | Firestore database id                     |
 * | CTLOOP_BIGTABLE_INSTANCE    | ctloop                                    | Bigtable instance id                      |
 * | CTLOOP_BIGTABLE_TABLE       | ctloop_online                             | Bigtable table of the online store        |
 * | FIRESTORE_EMULATOR_HOST     | required when firestore in emulators mode | host:port of the Firestore emulator       |
 * | BIGTABLE_EMULATOR_HOST      | required when bigtable in emulators mode  | host:port of the Bigtable emulator        |
 * | CTLOOP_MODEL_REGISTRY       | vertex in gcp, embedded otherwise         | model registry: embedded or vertex        |
 * | CTLOOP_MODELS               | models.yaml beside CTLOOP_FEATURES        | model definitions file                    |
 * | CTLOOP_TRAINING             | vertex in gcp, local otherwise            | where trainers run: vertex or local       |
 * | CTLOOP_TRAINER_IMAGE        | (none; models.yaml may name one)          | Vertex AI trainer container image         |
 * | CTLOOP_TRAINER_SERVICE_ACCOUNT | required for vertex training           | service account trainer jobs run as       |
 * | CTLOOP_VERTEX_API_ENDPOINT  | <region>-aiplatform.googleapis.com        | Vertex AI API host[:port] (tests)         |
 *
 * Google credentials (read here, checked once at start by credentials.ts, only when an adapter talks to Google):
 * GOOGLE_APPLICATION_CREDENTIALS (a key or ADC file), CLOUDSDK_CONFIG / HOME / APPDATA (where gcloud keeps
 * `application_default_credentials.json`), METADATA_SERVER_DETECTION (google-auth-library's switch: assume-present,
 * none, bios-only, ping-only), K_SERVICE / FUNCTION_TARGET / FUNCTION_NAME / CLOUD_RUN_JOB (set on Cloud Run and
 * Cloud Functions, where the metadata server supplies credentials), GCE_METADATA_HOST / GCE_METADATA_IP.
 */

const mode = z.enum(['embedded', 'emulators', 'gcp']);
const intFromEnv = (def: number) => z.coerce.number().int().positive().default(def);

const envSchema = z.object({
  CTLOOP_MODE: mode.default('embedded'),
  CTLOOP_STATE_DIR: z.string().min(1).default('.ctloop'),
  CTLOOP_FEATURES: z.string().min(1).default('features.yaml'),
  CTLOOP_WAREHOUSE: z.enum(['duckdb', 'bigquery']).optional(),
  CTLOOP_OBJECT_STORE: z.enum(['local', 'gcs']).optional(),
  CTLOOP_EVENT_BUS: z.enum(['memory', 'pubsub']).optional(),
  CTLOOP_ONLINE_STORE: z.enum(['embedded', 'firestore', 'bigtable'], 'must be embedded, firestore or bigtable').optional(),
  CTLOOP_FIRESTORE_DATABASE: z.string().regex(/^(\(default\)|[a-z][a-z0-9-]{2,61}[a-z0-9])$/, 'must be (default) or a Firestore database id (4-63 chars: a-z, 0-9, -)').default('(default)'),
  CTLOOP_BIGTABLE_INSTANCE: z.string().regex(/^[a-z][a-z0-9-]{4,31}[a-z0-9]$/, 'must be a Bigtable instance id (6-33 chars: a-z, 0-9, -)').default('ctloop'),
  CTLOOP_BIGTABLE_TABLE: z.string().regex(/^[A-Za-z0-9_.-]{1,50}$/, 'must be a Bigtable table id (letters, digits, _ . -)').default('ctloop_online'),
  FIRESTORE_EMULATOR_HOST: z.string().regex(/^[^:/]+:\d+$/, 'must be host:port').optional(),
  BIGTABLE_EMULATOR_HOST: z.string().regex(/^[^:/]+:\d+$/, 'must be host:port').optional(),
  GOOGLE_CLOUD_PROJECT: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, 'must be a GCP project id (6-30 chars: a-z, 0-9, -)').optional(),
  CTLOOP_REGION: z.string().regex(/^[a-z]+-[a-z]+\d$/, 'must be a GCP region such as us-central1').default('us-central1'),
  CTLOOP_BQ_DATASET: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,1023}$/, 'must be a BigQuery dataset id (letters, digits, _)').default('ctloop'),
  CTLOOP_BQ_LOCATION: z.string().min(2).default('US'),
  CTLOOP_BIGQUERY_ENDPOINT: z.url().optional(),
  CTLOOP_ARTIFACT_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, 'must be a bucket name (no gs://)').optional(),
  PUBSUB_EMULATOR_HOST: z.string().regex(/^[^:/]+:\d+$/, 'must be host:port').optional(),
  STORAGE_EMULATOR_HOST: z.url().optional(),
  CTLOOP_MAX_DELIVERY_ATTEMPTS: z.coerce.number().int().min(5, 'Pub/Sub allows 5..100').max(100, 'Pub/Sub allows 5..100').default(5),
  CTLOOP_MIN_BACKOFF_MS: z.coerce.number().int().nonnegative().optional(),
  CTLOOP_MAX_BACKOFF_MS: intFromEnv(600_000),
  CTLOOP_DUCKDB_MEMORY_LIMIT: z.string().regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, 'must be a size such as 512MB or 2GiB').optional(),
  CTLOOP_MODEL_REGISTRY: z.enum(['embedded', 'vertex']).optional(),
  CTLOOP_MODELS: z.string().min(1).optional(),
  CTLOOP_TRAINING: z.enum(['local', 'vertex']).optional(),
  CTLOOP_TRAINER_IMAGE: z.string().min(1).optional(),
  CTLOOP_TRAINER_SERVICE_ACCOUNT: z.email('must be a service account email').optional(),
  CTLOOP_VERTEX_API_ENDPOINT: z.string().regex(/^[^:/]+(:\d+)?$/, 'must be host or host:port').optional(),
  GOOGLE_APPLICATION_CREDENTIALS: z.string().optional(),
  CLOUDSDK_CONFIG: z.string().optional(),
  HOME: z.string().optional(),
  APPDATA: z.string().optional(),
  METADATA_SERVER_DETECTION: z.string().trim().toLowerCase()
    .pipe(z.enum(['assume-present', 'none', 'bios-only', 'ping-only'], 'must be assume-present, none, bios-only or ping-only')).optional(),
  K_SERVICE: z.string().optional(),
  FUNCTION_TARGET: z.string().optional(),
  FUNCTION_NAME: z.string().optional(),
  CLOUD_RUN_JOB: z.string().optional(),
  GCE_METADATA_HOST: z.string().optional(),
  GCE_METADATA_IP: z.string().optional(),
});

export type Mode = z.infer<typeof mode>;

export type WarehouseConfig =
  | { kind: 'duckdb'; path: string; memoryLimit?: string }
  | { kind: 'bigquery'; project: string; dataset: string; location: string; apiEndpoint?: string };
export type ObjectStoreConfig = { kind: 'local'; root: string } | { kind: 'gcs'; project: string; apiEndpoint?: string };
export type OnlineStoreConfig =
  | { kind: 'embedded'; dir: string }
  | { kind: 'firestore'; project: string; database: string; emulatorHost?: string }
  | { kind: 'bigtable'; project: string; instance: string; table: string; emulatorHost?: string };
/** Where model versions are registered (shared/adapters/model-registry). */
export type ModelRegistryConfig =
  | { kind: 'embedded' }
  | { kind: 'vertex'; project: string; region: string; apiEndpoint?: string };
export type EventBusConfig =
  | { kind: 'memory'; journalDir: string }
  | { kind: 'pubsub'; project: string; emulatorHost?: string };

/** Where Google credentials can come from (Application Default Credentials order), read from the environment. */
export interface CredentialsConfig {
  /** GOOGLE_APPLICATION_CREDENTIALS, resolved. */
  applicationCredentials?: string;
  /** gcloud's ADC file (`gcloud auth application-default login`), if a config directory is known. */
  gcloudAdcFile?: string;
  metadataServerDetection?: 'assume-present' | 'none' | 'bios-only' | 'ping-only';
  /** Running on Cloud Run / Cloud Functions (K_SERVICE, FUNCTION_TARGET, FUNCTION_NAME or CLOUD_RUN_JOB set). */
  serverless: boolean;
  /** host[:port] of the metadata server. */
  metadataHost: string;
}

export interface Config {
  mode: Mode;
  stateDir: string;
  featuresFile: string;
  project: string;
  region: string;
  artifactBucket: string;
  warehouse: WarehouseConfig;
  objectStore: ObjectStoreConfig;
  eventBus: EventBusConfig;
  online: OnlineStoreConfig;
  retry: { maxDeliveryAttempts: number; minBackoffMs: number; maxBackoffMs: number };
  credentials: CredentialsConfig;
  modelRegistry: ModelRegistryConfig;
  training: TrainingConfig;
}

/** Where trainers run and with what (shared/training). */
export interface TrainingConfig {
  modelsFile: string;
  backend: 'local' | 'vertex';
  trainerImage?: string;
  trainerServiceAccount?: string;
  /** Vertex AI API host and port; default `<region>-aiplatform.googleapis.com:443`. */
  vertexApiEndpoint?: string;
}

const LOCAL_PROJECT = 'ctloop-local';

/** Read and validate configuration. Throws ConfigError naming the variable on any problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd(), platform: NodeJS.Platform = process.platform): Config {
  const known = Object.fromEntries(Object.keys(envSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]));
  const parsed = envSchema.safeParse(known);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    const name = String(first.path[0]);
    throw new ConfigError(`${name}=${JSON.stringify(env[name] ?? '')} is invalid: ${first.message}`, {
      hint: `set ${name} to a valid value or unset it to use the default (see shared/config/config.ts)`,
      details: { variable: name, issues: parsed.error.issues },
    });
  }
  const e = parsed.data;
  const m = e.CTLOOP_MODE;
  const stateDir = resolve(cwd, e.CTLOOP_STATE_DIR);
  const need = (name: keyof typeof e, why: string): string => {
    const v = e[name];
    if (v === undefined || v === '') {
      throw new ConfigError(`${name} is required ${why}`, { hint: `export ${name}=... before starting`, details: { variable: name } });
    }
    return String(v);
  };

  const warehouseKind = e.CTLOOP_WAREHOUSE ?? (m === 'gcp' ? 'bigquery' : 'duckdb');
  const storeKind = e.CTLOOP_OBJECT_STORE ?? (m === 'embedded' ? 'local' : 'gcs');
  const busKind = e.CTLOOP_EVENT_BUS ?? (m === 'embedded' ? 'memory' : 'pubsub');
  const project = m === 'gcp' ? need('GOOGLE_CLOUD_PROJECT', 'in gcp mode') : (e.GOOGLE_CLOUD_PROJECT ?? LOCAL_PROJECT);
  const emulatorVars = ['PUBSUB_EMULATOR_HOST', 'STORAGE_EMULATOR_HOST', 'FIRESTORE_EMULATOR_HOST', 'BIGTABLE_EMULATOR_HOST'] as const;
  const setEmulator = emulatorVars.find((v) => e[v]);
  if (m === 'gcp' && setEmulator) {
    throw new ConfigError('emulator hosts are set in gcp mode', {
      hint: `unset ${emulatorVars.filter((v) => e[v]).join(' and ')}, or use CTLOOP_MODE=emulators`,
      details: { variable: setEmulator },
    });
  }
  const onlineKind = e.CTLOOP_ONLINE_STORE ?? (m === 'gcp' ? 'firestore' : 'embedded');
  if (m === 'emulators' && onlineKind === 'firestore') need('FIRESTORE_EMULATOR_HOST', 'in emulators mode with the firestore online store (start one with emulators/start.sh)');
  if (m === 'emulators' && onlineKind === 'bigtable') need('BIGTABLE_EMULATOR_HOST', 'in emulators mode with the bigtable online store (start one with emulators/start.sh)');
  if (m === 'emulators' && busKind === 'pubsub') need('PUBSUB_EMULATOR_HOST', 'in emulators mode (start one with emulators/start.sh)');
  if (m === 'emulators' && storeKind === 'gcs') need('STORAGE_EMULATOR_HOST', 'in emulators mode (start one with emulators/start.sh)');

  const warehouse: WarehouseConfig =
    warehouseKind === 'duckdb'
      ? { kind: 'duckdb', path: resolve(stateDir, 'warehouse.duckdb'), ...(e.CTLOOP_DUCKDB_MEMORY_LIMIT ? { memoryLimit: e.CTLOOP_DUCKDB_MEMORY_LIMIT } : {}) }
      : {
          kind: 'bigquery', project, dataset: e.CTLOOP_BQ_DATASET, location: e.CTLOOP_BQ_LOCATION,
          ...(e.CTLOOP_BIGQUERY_ENDPOINT ? { apiEndpoint: e.CTLOOP_BIGQUERY_ENDPOINT } : {}),
        };
  const objectStore: ObjectStoreConfig =
    storeKind === 'local'
      ? { kind: 'local', root: resolve(stateDir, 'objects') }
      : { kind: 'gcs', project, ...(e.STORAGE_EMULATOR_HOST ? { apiEndpoint: e.STORAGE_EMULATOR_HOST } : {}) };
  const eventBus: EventBusConfig =
    busKind === 'memory'
      ? { kind: 'memory', journalDir: resolve(stateDir, 'bus') }
      : { kind: 'pubsub', project, ...(e.PUBSUB_EMULATOR_HOST ? { emulatorHost: e.PUBSUB_EMULATOR_HOST } : {}) };

  const online: OnlineStoreConfig =
    onlineKind === 'embedded'
      ? { kind: 'embedded', dir: resolve(stateDir, 'online') }
      : onlineKind === 'firestore'
        ? { kind: 'firestore', project, database: e.CTLOOP_FIRESTORE_DATABASE, ...(e.FIRESTORE_EMULATOR_HOST ? { emulatorHost: e.FIRESTORE_EMULATOR_HOST } : {}) }
        : { kind: 'bigtable', project, instance: e.CTLOOP_BIGTABLE_INSTANCE, table: e.CTLOOP_BIGTABLE_TABLE, ...(e.BIGTABLE_EMULATOR_HOST ? { emulatorHost: e.BIGTABLE_EMULATOR_HOST } : {}) };

  return {
    mode: m,
    stateDir,
    featuresFile: resolve(cwd, e.CTLOOP_FEATURES),
    project,
    region: e.CTLOOP_REGION,
    artifactBucket: m === 'gcp' ? need('CTLOOP_ARTIFACT_BUCKET', 'in gcp mode') : (e.CTLOOP_ARTIFACT_BUCKET ?? 'ctloop-artifacts'),
    warehouse,
    objectStore,
    eventBus,
    online,
    retry: {
      maxDeliveryAttempts: e.CTLOOP_MAX_DELIVERY_ATTEMPTS,
      minBackoffMs: e.CTLOOP_MIN_BACKOFF_MS ?? (m === 'embedded' ? 100 : 1000),
      maxBackoffMs: e.CTLOOP_MAX_BACKOFF_MS,
    },
    credentials: credentialsConfig(e, cwd, platform),
    modelRegistry: (e.CTLOOP_MODEL_REGISTRY ?? (m === 'gcp' ? 'vertex' : 'embedded')) === 'embedded' ? { kind: 'embedded' }
      : { kind: 'vertex', project, region: e.CTLOOP_REGION, ...(e.CTLOOP_VERTEX_API_ENDPOINT ? { apiEndpoint: e.CTLOOP_VERTEX_API_ENDPOINT } : {}) },
    training: {
      modelsFile: e.CTLOOP_MODELS ? resolve(cwd, e.CTLOOP_MODELS) : join(dirname(resolve(cwd, e.CTLOOP_FEATURES)), 'models.yaml'),
      backend: e.CTLOOP_TRAINING ?? (m === 'gcp' ? 'vertex' : 'local'),
      ...(e.CTLOOP_TRAINER_IMAGE ? { trainerImage: e.CTLOOP_TRAINER_IMAGE } : {}),
      ...(e.CTLOOP_TRAINER_SERVICE_ACCOUNT ? { trainerServiceAccount: e.CTLOOP_TRAINER_SERVICE_ACCOUNT } : {}),
      ...(e.CTLOOP_VERTEX_API_ENDPOINT ? { vertexApiEndpoint: e.CTLOOP_VERTEX_API_ENDPOINT } : {}),
    },
  };
}

/** The ADC search places, in google-auth-library's order (googleauth.js `_tryGetApplicationCredentialsFrom*`). */
function credentialsConfig(e: z.infer<typeof envSchema>, cwd: string, os: NodeJS.Platform): CredentialsConfig {
  const gcloudDir = e.CLOUDSDK_CONFIG
    ?? (os === 'win32' ? (e.APPDATA ? join(e.APPDATA, 'gcloud') : undefined) : (e.HOME ? join(e.HOME, '.config', 'gcloud') : undefined));
  return {
    ...(e.GOOGLE_APPLICATION_CREDENTIALS ? { applicationCredentials: resolve(cwd, e.GOOGLE_APPLICATION_CREDENTIALS) } : {}),
    ...(gcloudDir ? { gcloudAdcFile: join(resolve(cwd, gcloudDir), 'application_default_credentials.json') } : {}),
    ...(e.METADATA_SERVER_DETECTION ? { metadataServerDetection: e.METADATA_SERVER_DETECTION } : {}),
    serverless: Boolean(e.K_SERVICE || e.FUNCTION_TARGET || e.FUNCTION_NAME || e.CLOUD_RUN_JOB),
    metadataHost: e.GCE_METADATA_HOST ?? e.GCE_METADATA_IP ?? '169.254.169.254',
  };
}
