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
  | 'online.read' // read the online store (Firestore: roles/datastore.viewer on its database; Bigtable: roles/bigtable.reader on the instance)
  | 'online.write' // write the online store, newest wins (Firestore: roles/datastore.user on its database; Bigtable: roles/bigtable.user on the instance)
  | 'vertex.read' // read custom jobs' state (roles/aiplatform.viewer)
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
  /**
   * Requests one instance serves at once (`max_instance_request_concurrency`, 1..1000; gen2 defaults to 1) and its
   * vCPU (`available_cpu`; a concurrency above 1 needs at least 1), with the reason. Absent: 1 request, default CPU.
   */
  scaling?: FunctionScaling;
}

export interface FunctionScaling {
  concurrency: number;
  cpu: string;
  reason: string;
}

export const functionRegistry: FunctionSpec[] = [
  {
    name: 'ingest-features',
    entryPoint: 'ingestFeatures',
    trigger: 'featureRows',
    publishes: [],
    needs: ['bigquery.write', 'bigquery.jobs', 'online.write'],
    description: 'Validate a batch of feature rows, write good rows once (dedup on ingest id), quarantine bad rows, update the online store.',
    timeoutSeconds: 120,
    memory: '512Mi',
    scaling: {
      concurrency: 16,
      cpu: '1',
      reason: 'the group commit merges batches that one instance handles at once into one MERGE per table; one request per instance would make every event its own DML job',
    },
  },
  {
    name: 'load-feature-file',
    entryPoint: 'loadFeatureFile',
    trigger: 'featureFileReady',
    publishes: [],
    // storage.write: on BigQuery, validated rows are staged as a file under tmp/loads/ for one load job.
    needs: ['bigquery.write', 'bigquery.jobs', 'storage.read', 'storage.write', 'online.write'],
    description: 'Load a CSV/JSONL/Parquet file into a feature view with the same validation and dedup as streaming rows.',
    timeoutSeconds: 540,
    memory: '1Gi',
    scaling: {
      concurrency: 1,
      cpu: '1',
      reason: 'a load validates a whole file in a temporary DuckDB in the 1Gi instance; one file per instance keeps memory bounded',
    },
  },
  {
    name: 'compact-features',
    entryPoint: 'compactFeatures',
    trigger: 'featureCompactionRequested',
    publishes: [],
    needs: ['bigquery.read', 'bigquery.write', 'bigquery.jobs'],
    description: 'Remove the copies at-least-once streaming appends left in one day (yesterday) of an offline feature table or the quarantine: one statement per table per day.',
    timeoutSeconds: 540,
    memory: '256Mi',
    scaling: {
      concurrency: 1,
      cpu: '1',
      reason: 'one daily job per table; each runs one count query and at most one MERGE on one partition, so concurrent compactions of one table would only queue behind its DML',
    },
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
    scaling: {
      concurrency: 1,
      cpu: '1',
      reason: 'scheduled and rare; a profile of a window runs as warehouse queries for minutes, one per instance',
    },
  },
  {
    name: 'evaluate-model',
    entryPoint: 'evaluateModel',
    trigger: 'trainingCompleted',
    publishes: ['modelEvaluated'],
    needs: ['bigquery.read', 'bigquery.write', 'bigquery.jobs', 'storage.read', 'storage.write', 'vertex.deploy'],
    description: 'Score a trained candidate against the champion on the same test rows (overall and per slice), apply the gate, register the version with its lineage, and publish the verdict.',
    timeoutSeconds: 540,
    memory: '1Gi',
    scaling: {
      concurrency: 1,
      cpu: '1',
      reason: 'one evaluation parses a whole predictions file and scores every slice in memory; rare (one per training run), so one per instance',
    },
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
    scaling: {
      concurrency: 1,
      cpu: '1',
      reason: 'an export joins the training windows point-in-time and writes them out; rare (one per training request), one per instance keeps memory bounded',
    },
  },
  {
    name: 'deploy-model',
    entryPoint: 'deployModel',
    trigger: 'modelEvaluated',
    publishes: ['deployRequested', 'modelDeployed', 'deploymentRolledBack'],
    // bigquery: the serving log (canary signals); storage: rollout records, operation markers, test predictions.
    needs: ['bigquery.read', 'bigquery.jobs', 'storage.read', 'storage.write', 'vertex.deploy'],
    description: 'Start the canary rollout of a blessed candidate beside the champion: deploy.requested, deployModel with the canary share, health; later steps are taken by reconcile-deployments.',
    timeoutSeconds: 120,
    memory: '512Mi',
    scaling: {
      concurrency: 1,
      cpu: '1',
      reason: 'one rollout step per instance: a step reads and writes the model\'s rollout record, and at most one candidate per model is evaluated at a time, so instances never need to share',
    },
  },
  {
    name: 'reconcile-deployments',
    entryPoint: 'reconcileDeployments',
    trigger: 'deploymentCheckRequested',
    publishes: ['modelDeployed', 'deploymentRolledBack'],
    needs: ['bigquery.read', 'bigquery.jobs', 'storage.read', 'storage.write', 'vertex.deploy'],
    description: 'Every minute: advance active rollouts without waiting — resume deploy/undeploy operations by name, end canary periods, compare canary and champion on the serving log, promote or roll back.',
    timeoutSeconds: 120,
    memory: '512Mi',
    scaling: {
      concurrency: 1,
      cpu: '1',
      reason: 'a timer tick every minute walks every active rollout in turn; one tick per instance keeps two ticks from taking the same step at once',
    },
  },
];

export function functionSpec(name: string): FunctionSpec {
  const f = functionRegistry.find((x) => x.name === name);
  if (!f) throw new Error(`function ${name} is not in shared/topology/functions.ts`);
  return f;
}
