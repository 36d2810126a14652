/**
 * Training launcher port: starts a trainer job (Vertex AI CustomJob or a local child process) and reads its state.
 * Completion is reported by events (the local runner's exit, the Vertex AI log sink), never by polling inside a
 * function; `status` is what the completion handler and the reconciler read once they are told to look.
 */
export interface JobSpec {
  runId: string;
  model: string;
  displayName: string;
  /** Container image (Vertex AI). */
  image?: string;
  /** Local program and leading arguments. */
  command: string[];
  args: string[];
  machineType: string;
  timeoutSeconds: number;
  /** The trainer contract's environment (AIP_* data URIs, CTLOOP_LABEL, ...), gs:// URIs. */
  env: Record<string, string>;
  /** gs:// prefix under which the job writes: `model/` is AIP_MODEL_DIR (Vertex AI's baseOutputDirectory layout). */
  outputPrefix: string;
  /** gs:// URI the job's logs are written to (local runner). */
  logsUri: string;
  /** Working directory of local runs (the directory of models.yaml). */
  cwd: string;
  labels: Record<string, string>;
}

export type JobState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'EXPIRED';

export interface JobStatus {
  state: JobState;
  /** Why it failed, in one line (exit code, Vertex AI error message, timeout). */
  error?: string;
  /** Last lines of the job's logs, when the launcher has them. */
  logsTail?: string;
}

export interface TrainingLauncher {
  readonly backend: 'local' | 'vertex';
  /** Start the job; returns its id (Vertex AI job resource name, or a local process id). */
  launch(spec: JobSpec): Promise<{ jobId: string }>;
  status(jobId: string): Promise<JobStatus>;
  /** A job already started for this run (found by its run label), so a resumed launch adopts it instead of starting another. */
  findByRun(runId: string): Promise<string | null>;
}

export function isTerminal(s: JobState): s is 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'EXPIRED' {
  return s === 'SUCCEEDED' || s === 'FAILED' || s === 'CANCELLED' || s === 'EXPIRED';
}
