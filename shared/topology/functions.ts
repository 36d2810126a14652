import type { EventName } from '../events/catalog.js';

/**
 * The function registry: which Cloud Function consumes which event, what it may publish, and what it needs from
 * GCP. Terraform inputs (`ctloop infra gen`), the emulator wiring and the local runtime are all derived from this
 * table; adding a function here without its folder under functions/ (or the reverse) fails the topology tests.
 */
export type GcpNeed =
  | 'bigquery.read' // read feature tables (roles/bigquery.dataViewer on the dataset)
  | 'bigquery.write' // write feature tables (roles/bigquery.dataEditor on the dataset)
  | 'bigquery.jobs' // run query/load jobs (roles/bigquery.jobUser on the project)
  | 'storage.read' // read artifacts/files (roles/storage.objectViewer on the bucket)
  | 'storage.write' // write artifacts (roles/storage.objectAdmin on the bucket)
  | 'vertex.train' // submit custom jobs (roles/aiplatform.user)
  | 'vertex.deploy'; // upload/deploy models (roles/aiplatform.user)

export interface FunctionSpec {
  /** Folder under functions/ and the deployed function name (prefixed `ctloop-`). */
  name: string;
  /** Exported CloudEvent handler name registered with functions-framework. */
  entryPoint: string;
  trigger: EventName;
  publishes: EventName[];
  needs: GcpNeed[];
  description: string;
  /** Seconds; Cloud Functions gen2 event functions allow up to 540. */
  timeoutSeconds: number;
  memory: '256Mi' | '512Mi' | '1Gi' | '2Gi' | '4Gi';
}

export const functionRegistry: FunctionSpec[] = [
  {
    name: 'ingest-features',
    entryPoint: 'ingestFeatures',
    trigger: 'featureRows',
    publishes: [],
    needs: ['bigquery.write', 'bigquery.jobs'],
    description: 'Validate a batch of feature rows, write good rows once (dedup on ingest id), quarantine bad rows, update the online table.',
    timeoutSeconds: 120,
    memory: '512Mi',
  },
  {
    name: 'load-feature-file',
    entryPoint: 'loadFeatureFile',
    trigger: 'featureFileReady',
    publishes: [],
    // storage.write: on BigQuery, validated rows are staged as a file under tmp/loads/ for one load job.
    needs: ['bigquery.write', 'bigquery.jobs', 'storage.read', 'storage.write'],
    description: 'Load a CSV/JSONL/Parquet file into a feature view with the same validation and dedup as streaming rows.',
    timeoutSeconds: 540,
    memory: '1Gi',
  },
  {
    name: 'detect-drift',
    entryPoint: 'detectDrift',
    trigger: 'driftCheckRequested',
    publishes: ['driftReported', 'trainingRequested', 'alertRaised'],
    needs: ['bigquery.read', 'bigquery.write', 'bigquery.jobs', 'storage.write'],
    description: 'Profile a window in the warehouse, compare with its baseline, validate, write the report and history, and apply the continuous-training policy.',
    timeoutSeconds: 540,
    memory: '512Mi',
  },
  {
    name: 'launch-training',
    entryPoint: 'launchTraining',
    trigger: 'trainingRequested',
    publishes: ['trainingCompleted'],
    needs: ['bigquery.read', 'bigquery.write', 'bigquery.jobs', 'storage.read', 'storage.write', 'vertex.train'],
    description: 'Export the split training sets of a training request, record the run, and start its trainer (Vertex AI CustomJob, or a local process); the same request never launches twice.',
    timeoutSeconds: 540,
    memory: '1Gi',
  },
];

export function functionSpec(name: string): FunctionSpec {
  const f = functionRegistry.find((x) => x.name === name);
  if (!f) throw new Error(`function ${name} is not in shared/topology/functions.ts`);
  return f;
}
