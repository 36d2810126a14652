import type { EventName } from '../events/catalog.js';
import type { FunctionScaling, FunctionSpec, GcpNeed } from './functions.js';

/**
 * Functions fed by a topic outside the event catalog: its messages are raw JSON (Cloud Logging entries, scheduler
 * bodies), not ctloop envelopes. They are second entry points of a function folder (same staged source, another
 * `--target`), deployed by the same Terraform module as the catalog functions (push subscription with OIDC,
 * dead-letter policy, retry backoff, own service account with the roles of its needs) and derived the same way by
 * `ctloop infra gen`; the emulator wiring and `ctloop run` follow this table too.
 */

/** Raw topics created by Terraform modules (not by the event catalog), by role. */
export const RAW_TOPICS = {
  /**
   * Vertex AI CustomJob service log lines (the vertex_ai module's Cloud Logging sink → Pub/Sub; the module's
   * `job_state_topic` default) and the training reconciler schedule's `{"reconcile": true}`.
   */
  vertexJobState: 'ctloop-vertex-job-state',
} as const;

export type RawTopic = (typeof RAW_TOPICS)[keyof typeof RAW_TOPICS];

/** The body of the scheduled reconcile message (functions/launch-training/job-state.ts acts on it). */
export const RECONCILE_MESSAGE = { reconcile: true } as const;

export interface MessageFunctionSpec {
  /** Deployed function name (prefixed `ctloop-`); not a folder of its own. */
  name: string;
  /** Folder under functions/ whose compiled index.js exports `entryPoint` (registered with functions-framework). */
  source: string;
  entryPoint: string;
  topic: RawTopic;
  publishes: EventName[];
  needs: GcpNeed[];
  description: string;
  timeoutSeconds: number;
  memory: FunctionSpec['memory'];
  scaling?: FunctionScaling;
}

export const messageFunctionRegistry: MessageFunctionSpec[] = [
  {
    name: 'complete-training',
    source: 'launch-training',
    entryPoint: 'completeTraining',
    topic: RAW_TOPICS.vertexJobState,
    publishes: ['trainingCompleted'],
    // getCustomJob (vertex.read); the run ledger in the warehouse; the model's metrics.json (read) and its baseline
    // profile copied beside the model (write).
    needs: ['bigquery.read', 'bigquery.write', 'bigquery.jobs', 'storage.read', 'storage.write', 'vertex.read'],
    description: 'Finish training runs: on a Vertex AI job-state log line read the job and complete its run on a terminal state (training.completed, once per run); on {"reconcile": true} look at every unfinished run.',
    timeoutSeconds: 300,
    memory: '512Mi',
    scaling: {
      concurrency: 1,
      cpu: '0.333',
      reason: 'a few log lines per training job and one reconcile every 15 minutes; each is a getCustomJob and one run update, so one per instance at the default CPU',
    },
  },
];
