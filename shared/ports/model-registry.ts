/**
 * Model registry port. Adapters: embedded (warehouse tables + object-store artifacts) and Vertex AI Model Registry.
 *
 * A model has numbered versions ("1", "2", … as Vertex numbers them). Each version records where its artifacts are,
 * its test metrics, whether the gate blessed it, its evaluation report, the training set's baseline profile, and its
 * lineage: version → training run → data snapshot URIs → trigger (a drift report or a manual/scheduled request).
 * Aliases (`challenger`, `champion`, …) are unique per model: setting one on a version moves it off any other.
 * Registration is idempotent per (model, runId): registering the same run again returns the existing version.
 */
export interface ModelTrigger {
  reason: 'drift' | 'schedule' | 'manual';
  /** The drift report that caused the request, when reason is drift. */
  driftReportId?: string | null;
  /** The training request's dedup key (or event id). */
  requestId?: string | null;
}

export interface ModelLineage {
  runId: string;
  /** Training job id (Vertex CustomJob id or local runner id). */
  jobId?: string | null;
  /** Data snapshots the run trained on: split name → URI (train, validation, test). */
  dataUris: Record<string, string>;
  trigger: ModelTrigger | null;
}

export interface RegisterVersionRequest {
  model: string;
  runId: string;
  /** The trainer's output directory (AIP_MODEL_DIR): model.bst, metrics.json, predictions.csv, baseline_profile.json. */
  artifactUri: string;
  metrics: Record<string, number>;
  blessed: boolean;
  /** The evaluation report (JSON); the registry stores it as an artifact and records its URI. */
  evaluation: unknown;
  baselineProfileUri: string | null;
  lineage: ModelLineage;
  /** Aliases this version takes at once (moved from other versions). */
  aliases: string[];
  /** Serving container image (required by Vertex AI; recorded by the embedded registry). */
  servingImage?: string | null;
  description?: string;
}

export interface ModelVersion {
  model: string;
  version: string;
  runId: string;
  artifactUri: string;
  createdAt: string;
  aliases: string[];
  blessed: boolean;
  metrics: Record<string, number>;
  evaluationUri: string | null;
  baselineProfileUri: string | null;
  servingImage: string | null;
  lineage: ModelLineage;
}

export interface ModelRegistry {
  readonly kind: 'embedded' | 'vertex';
  /** Register a run's model as a new version; `created` is false when this run was registered before. */
  registerVersion(req: RegisterVersionRequest): Promise<{ version: ModelVersion; created: boolean }>;
  /** A version by number or alias (`3`, `champion`), or null when there is none. */
  getVersion(model: string, ref: string): Promise<ModelVersion | null>;
  /** The version registered for a run, or null. */
  findByRun(model: string, runId: string): Promise<ModelVersion | null>;
  /** Versions of one model (or every model), oldest first per model. */
  listVersions(model?: string): Promise<ModelVersion[]>;
  /** Give a version these aliases, moving each off whichever version held it. */
  setAliases(model: string, version: string, aliases: string[]): Promise<ModelVersion>;
  /** Remove aliases from a version (absent ones are ignored). */
  removeAliases(model: string, version: string, aliases: string[]): Promise<ModelVersion>;
}

/** Vertex AI's alias rule, applied by both adapters: `[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]`, and not a version number. */
export const ALIAS_PATTERN = /^[a-z][a-zA-Z0-9-]{0,126}[a-z0-9]$/;

/** `M@3` or `M@champion` → parts; a bare `M` means its champion. */
export function parseModelRef(ref: string): { model: string; version: string } {
  const at = ref.indexOf('@');
  return at < 0 ? { model: ref, version: 'champion' } : { model: ref.slice(0, at), version: ref.slice(at + 1) };
}
