import { helpers, type protos, type v1 } from '@google-cloud/aiplatform';
import { BackendError, NotFoundError, TransientError, ValidationError } from '../../../errors.js';
import type { ModelLineage, ModelRegistry, ModelVersion, RegisterVersionRequest } from '../../../ports/model-registry.js';
import type { ObjectStore } from '../../../ports/object-store.js';
import { checkAliases, checkModelName, checkRequest, evaluationUri } from '../checks.js';

/**
 * Vertex AI Model Registry adapter (`ModelServiceClient`, @google-cloud/aiplatform 6).
 *
 * - A ctloop model is the Vertex model `projects/P/locations/R/models/<name>`: the first version is uploaded with
 *   `modelId: <name>`, later ones with `parentModel` (so they are versions of the same model, numbered by Vertex).
 * - `uploadModel` is a long-running operation; its result carries the new `modelVersionId`.
 * - Aliases are Vertex version aliases (unique per model; setting one moves it). The raw API never moves `default`
 *   (the Python SDK does): ctloop makes `default` follow `champion`, so `models/<name>` without a version resolves to
 *   the champion. The first version carries `default` too (Vertex requires one).
 * - The version record (run id, metrics, blessed, evaluation/baseline URIs, lineage) travels in the model's
 *   `metadata` struct; labels carry the model name, run id (label-safe) and verdict for filtering in the console.
 * - Idempotent per run: before uploading, the model's versions are searched for the run id. The upload operation's
 *   name is written next to the evaluation report as soon as Vertex accepts the upload, so a retry after a crash
 *   while the operation was running resumes that operation (`checkUploadModelProgress`) instead of uploading twice.
 */
type Client = Pick<v1.ModelServiceClient, 'uploadModel' | 'checkUploadModelProgress' | 'getModel' | 'listModels' | 'listModelVersions' | 'mergeVersionAliases'>;
type VModel = protos.google.cloud.aiplatform.v1.IModel;

export interface VertexRegistryDeps {
  client: Client;
  project: string;
  region: string;
  objectStore: ObjectStore;
  bucket: string;
}

const NOT_FOUND = 5;
const TRANSIENT = new Set([4, 8, 10, 13, 14]); // DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE

/** A Vertex label value: lowercase letters, digits, _ and -, at most 63 characters. */
export const labelValue = (s: string) => s.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 63);

interface VersionRecord {
  runId: string;
  blessed: boolean;
  metrics: Record<string, number>;
  evaluationUri: string | null;
  baselineProfileUri: string | null;
  lineage: ModelLineage;
}

function mapError(err: unknown, what: string): never {
  const code = (err as { code?: number }).code;
  const msg = `${what}: ${(err as Error).message}`;
  if (code !== undefined && TRANSIENT.has(code)) throw new TransientError(msg, { hint: 'Vertex AI is unavailable or throttling; the call is retried', cause: err });
  throw new BackendError(msg, { hint: 'check the Vertex AI API is enabled and the function\'s service account has roles/aiplatform.user', cause: err });
}

export class VertexModelRegistry implements ModelRegistry {
  readonly kind = 'vertex' as const;

  constructor(private readonly deps: VertexRegistryDeps) {}

  private get parent(): string {
    return `projects/${this.deps.project}/locations/${this.deps.region}`;
  }

  private modelName(model: string): string {
    return `${this.parent}/models/${model}`;
  }

  private async get(name: string): Promise<VModel | null> {
    try {
      const [m] = await this.deps.client.getModel({ name });
      return m;
    } catch (err) {
      if ((err as { code?: number }).code === NOT_FOUND) return null;
      return mapError(err, `getModel ${name}`);
    }
  }

  async registerVersion(req: RegisterVersionRequest): Promise<{ version: ModelVersion; created: boolean }> {
    checkRequest(req);
    const found = await this.findByRun(req.model, req.runId);
    if (found) return { version: found, created: false };
    if (!req.servingImage) {
      throw new ValidationError(`model ${req.model} has no serving container image, which Vertex AI requires`, {
        hint: 'set trainer.image for the model in models.yaml (or CTLOOP_TRAINER_IMAGE): the trainer image also serves the model',
      });
    }
    const evalUri = evaluationUri(this.deps.bucket, req.model, req.runId);
    const markerUri = evalUri.replace(/evaluation\.json$/, 'vertex-upload-operation.json');
    const pending = await this.pendingUpload(markerUri);
    if (pending) return { version: await this.finishUpload(req, async () => pending), created: true };
    await this.deps.objectStore.put(evalUri, JSON.stringify(req.evaluation, null, 2), { contentType: 'application/json' });
    const parentModel = this.modelName(req.model);
    const exists = (await this.get(parentModel)) !== null;
    const aliases = [...req.aliases, ...(!exists || req.aliases.includes('champion') ? ['default'] : [])];
    const record: VersionRecord = {
      runId: req.runId, blessed: req.blessed, metrics: req.metrics, evaluationUri: evalUri, baselineProfileUri: req.baselineProfileUri, lineage: req.lineage,
    };
    const request: protos.google.cloud.aiplatform.v1.IUploadModelRequest = {
      parent: this.parent,
      ...(exists ? { parentModel } : { modelId: req.model }),
      model: {
        displayName: req.model,
        artifactUri: req.artifactUri,
        containerSpec: { imageUri: req.servingImage },
        versionAliases: aliases,
        versionDescription: req.description ?? `run ${req.runId}: ${req.blessed ? 'blessed' : 'refused'}${Object.entries(req.metrics).map(([k, v]) => `, ${k} ${v.toFixed(4)}`).join('')}`,
        labels: { ctloop_model: labelValue(req.model), ctloop_run_id: labelValue(req.runId), ctloop_blessed: String(req.blessed) },
        metadata: helpers.toValue({ ctloop: record }) as protos.google.protobuf.IValue,
      },
    };
    const version = await this.finishUpload(req, async () => {
      const [op] = await this.deps.client.uploadModel(request);
      await this.deps.objectStore.put(markerUri, JSON.stringify({ operation: op.name, runId: req.runId }), { contentType: 'application/json' });
      return op;
    });
    return { version, created: true };
  }

  /** The upload operation a previous attempt for this run started, unless it failed (then the run uploads afresh). */
  private async pendingUpload(markerUri: string): Promise<{ name?: string | null; promise(): Promise<unknown> } | null> {
    if (!(await this.deps.objectStore.exists(markerUri))) return null;
    const { operation } = JSON.parse((await this.deps.objectStore.get(markerUri)).toString('utf8')) as { operation?: string };
    if (!operation) return null;
    let op: Awaited<ReturnType<Client['checkUploadModelProgress']>>;
    try {
      op = await this.deps.client.checkUploadModelProgress(operation);
    } catch (err) {
      if ((err as { code?: number }).code !== NOT_FOUND) return mapError(err, `getOperation ${operation}`);
      await this.deps.objectStore.delete(markerUri);
      return null;
    }
    if (op.done && op.error) {
      await this.deps.objectStore.delete(markerUri);
      return null;
    }
    return op;
  }

  private async finishUpload(req: RegisterVersionRequest, start: () => Promise<{ name?: string | null; promise(): Promise<unknown> }>): Promise<ModelVersion> {
    const markerUri = evaluationUri(this.deps.bucket, req.model, req.runId).replace(/evaluation\.json$/, 'vertex-upload-operation.json');
    let versionId: string;
    try {
      const op = await start();
      const [res] = (await op.promise()) as [protos.google.cloud.aiplatform.v1.IUploadModelResponse];
      versionId = String(res.modelVersionId);
    } catch (err) {
      // A rejected upload cannot be resumed: forget it so that a retry uploads again. After a transient failure the
      // operation may still be running, so it is kept and the retry resumes it.
      const code = (err as { code?: number }).code;
      if (code === undefined || !TRANSIENT.has(code)) await this.deps.objectStore.delete(markerUri).catch(() => undefined);
      return mapError(err, `uploadModel ${req.model} (run ${req.runId})`);
    }
    const v = await this.getVersion(req.model, versionId);
    if (!v) throw new TransientError(`Vertex AI uploaded ${req.model} version ${versionId} but does not return it yet`, { hint: 'retry' });
    return v;
  }

  async getVersion(model: string, ref: string): Promise<ModelVersion | null> {
    checkModelName(model);
    const m = await this.get(`${this.modelName(model)}@${ref}`);
    return m ? toVersion(model, m) : null;
  }

  async findByRun(model: string, runId: string): Promise<ModelVersion | null> {
    return (await this.listVersions(model)).find((v) => v.runId === runId) ?? null;
  }

  async listVersions(model?: string): Promise<ModelVersion[]> {
    if (model === undefined) {
      let models: VModel[];
      try {
        [models] = await this.deps.client.listModels({ parent: this.parent });
      } catch (err) {
        return mapError(err, 'listModels');
      }
      const names = [...new Set(models.filter((m) => m.labels?.ctloop_model).map((m) => String(m.name).split('/').at(-1)!.split('@')[0]!))].sort();
      return (await Promise.all(names.map((n) => this.listVersions(n)))).flat();
    }
    checkModelName(model);
    let versions: VModel[];
    try {
      [versions] = await this.deps.client.listModelVersions({ name: this.modelName(model) });
    } catch (err) {
      if ((err as { code?: number }).code === NOT_FOUND) return [];
      return mapError(err, `listModelVersions ${model}`);
    }
    return versions.flatMap((m) => {
      const v = toVersion(model, m);
      return v ? [v] : [];
    }).sort((a, b) => Number(a.version) - Number(b.version));
  }

  private async merge(model: string, version: string, aliases: string[]): Promise<ModelVersion> {
    if (!/^\d+$/.test(version)) throw new ValidationError(`version ${version} is not a version number`, { hint: 'pass a number such as 3; `ctloop models list` shows them' });
    try {
      await this.deps.client.mergeVersionAliases({ name: `${this.modelName(model)}@${version}`, versionAliases: aliases });
    } catch (err) {
      if ((err as { code?: number }).code === NOT_FOUND) throw new NotFoundError(`model ${model} has no version ${version}`, { hint: 'list versions with `ctloop models list`' });
      return mapError(err, `mergeVersionAliases ${model}@${version}`);
    }
    const v = await this.getVersion(model, version);
    if (!v) throw new NotFoundError(`model ${model} has no version ${version}`, { hint: 'list versions with `ctloop models list`' });
    return v;
  }

  async setAliases(model: string, version: string, aliases: string[]): Promise<ModelVersion> {
    checkAliases(aliases);
    return this.merge(model, version, [...aliases, ...(aliases.includes('champion') ? ['default'] : [])]);
  }

  async removeAliases(model: string, version: string, aliases: string[]): Promise<ModelVersion> {
    checkAliases(aliases);
    return this.merge(model, version, aliases.map((a) => `-${a}`));
  }
}

function timestamp(t: protos.google.protobuf.ITimestamp | null | undefined): string {
  if (!t) return new Date(0).toISOString();
  return new Date(Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}

/** A Vertex model version → the port's record; null for versions ctloop did not register (no ctloop metadata). */
function toVersion(model: string, m: VModel): ModelVersion | null {
  let meta: { ctloop?: VersionRecord } | null = null;
  try {
    meta = m.metadata ? (helpers.fromValue(m.metadata as Parameters<typeof helpers.fromValue>[0]) as { ctloop?: VersionRecord }) : null;
  } catch {
    meta = null;
  }
  const r = meta?.ctloop;
  if (!r) return null;
  return {
    model, version: String(m.versionId), runId: r.runId, artifactUri: String(m.artifactUri ?? ''), createdAt: timestamp(m.versionCreateTime),
    aliases: (m.versionAliases ?? []).filter((a) => a !== 'default').sort(), blessed: r.blessed, metrics: r.metrics,
    evaluationUri: r.evaluationUri, baselineProfileUri: r.baselineProfileUri, servingImage: m.containerSpec?.imageUri ?? null, lineage: r.lineage,
  };
}
