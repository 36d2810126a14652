import { JobServiceClient } from '@google-cloud/aiplatform';
import * as grpc from '@grpc/grpc-js';
import type { ClientOptions } from 'google-gax';
import { ValidationError } from '../../errors.js';
import type { JobSpec, JobState, JobStatus, TrainingLauncher } from '../../training/launcher.js';

export interface VertexLauncherOptions {
  project: string;
  region: string;
  /** The trainer service account (vertex_ai Terraform module output trainer_service_account_email). */
  serviceAccount: string;
  /** host[:port] of the API; default `<region>-aiplatform.googleapis.com`. A loopback host is spoken to without TLS (tests). */
  apiEndpoint?: string;
  /** Extra client options (tests: insecure credentials). */
  clientOptions?: ClientOptions;
}

/** Vertex AI JobState enum (google/cloud/aiplatform/v1/job_state.proto), by name and by number. */
const STATES: Record<string, JobState> = {
  JOB_STATE_QUEUED: 'PENDING', JOB_STATE_PENDING: 'PENDING', JOB_STATE_RUNNING: 'RUNNING', JOB_STATE_SUCCEEDED: 'SUCCEEDED',
  JOB_STATE_FAILED: 'FAILED', JOB_STATE_CANCELLING: 'RUNNING', JOB_STATE_CANCELLED: 'CANCELLED', JOB_STATE_PAUSED: 'PENDING',
  JOB_STATE_EXPIRED: 'EXPIRED', JOB_STATE_UPDATING: 'RUNNING', JOB_STATE_PARTIALLY_SUCCEEDED: 'FAILED',
};
const BY_NUMBER = ['JOB_STATE_UNSPECIFIED', 'JOB_STATE_QUEUED', 'JOB_STATE_PENDING', 'JOB_STATE_RUNNING', 'JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED',
  'JOB_STATE_CANCELLING', 'JOB_STATE_CANCELLED', 'JOB_STATE_PAUSED', 'JOB_STATE_EXPIRED', 'JOB_STATE_UPDATING', 'JOB_STATE_PARTIALLY_SUCCEEDED'];

export function jobStateOf(raw: unknown): JobState {
  const name = typeof raw === 'number' ? BY_NUMBER[raw] : String(raw ?? '');
  return STATES[name ?? ''] ?? 'PENDING';
}

/**
 * The cloud training backend: one Vertex AI CustomJob per run (`JobServiceClient.createCustomJob`, not a long-running
 * operation), the trainer contract's environment in the container env (Vertex AI sets AIP_*_DATA_URI only for managed
 * datasets), `baseOutputDirectory` = the run prefix (so AIP_MODEL_DIR = <prefix>model/), the trainer service account,
 * and labels with the run id. Its end is read with getCustomJob when the job-state log sink or the reconciler asks.
 */
export class VertexTrainingLauncher implements TrainingLauncher {
  readonly backend = 'vertex' as const;
  private readonly client: JobServiceClient;
  private readonly parent: string;

  constructor(private readonly opts: VertexLauncherOptions) {
    const [host, port] = (opts.apiEndpoint ?? `${opts.region}-aiplatform.googleapis.com`).split(':');
    const local = host === '127.0.0.1' || host === 'localhost';
    this.client = new JobServiceClient({
      apiEndpoint: host!, ...(port ? { port: Number(port) } : {}), projectId: opts.project,
      ...(local ? { sslCreds: grpc.credentials.createInsecure() } : {}), ...(opts.clientOptions ?? {}),
    });
    this.parent = `projects/${opts.project}/locations/${opts.region}`;
  }

  async launch(spec: JobSpec): Promise<{ jobId: string }> {
    if (!spec.image) {
      throw new ValidationError(`model ${spec.model} has no trainer image for Vertex AI`, {
        hint: 'set trainer.image in models.yaml or CTLOOP_TRAINER_IMAGE (built by cloudbuild.yaml from trainers/flight-delay/Dockerfile)',
      });
    }
    const [job] = await this.client.createCustomJob({
      parent: this.parent,
      customJob: {
        displayName: spec.displayName,
        labels: spec.labels,
        jobSpec: {
          workerPoolSpecs: [{
            machineSpec: { machineType: spec.machineType },
            replicaCount: 1,
            containerSpec: { imageUri: spec.image, args: spec.args, env: Object.entries(spec.env).map(([name, value]) => ({ name, value })) },
          }],
          baseOutputDirectory: { outputUriPrefix: spec.outputPrefix },
          serviceAccount: this.opts.serviceAccount,
          scheduling: { timeout: { seconds: spec.timeoutSeconds } },
        },
      },
    });
    if (!job.name) throw new Error('Vertex AI createCustomJob returned a job without a name');
    return { jobId: job.name };
  }

  async status(jobId: string): Promise<JobStatus> {
    const [job] = await this.client.getCustomJob({ name: jobId });
    const state = jobStateOf(job.state);
    const message = job.error?.message ?? undefined;
    return {
      state,
      ...(state !== 'SUCCEEDED' && state !== 'RUNNING' && state !== 'PENDING'
        ? { error: `Vertex AI job ${jobId} ended ${String(job.state)}${message ? `: ${message}` : ''}`, ...(message ? { logsTail: message } : {}) }
        : {}),
    };
  }

  async findByRun(runId: string): Promise<string | null> {
    const [jobs] = await this.client.listCustomJobs({ parent: this.parent, filter: `labels.ctloop_run="${runId}"` }, { autoPaginate: true });
    return jobs.find((j) => j.name)?.name ?? null;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
