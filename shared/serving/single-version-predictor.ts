import { NotFoundError, TransientError } from '../errors.js';
import type { ModelRegistry } from '../ports/model-registry.js';
import { startModelServer, type ModelServerProcess, type StartOptions } from './model-server-process.js';
import type { Prediction, Predictor } from './predictor.js';

export interface ServedVersion {
  model: string;
  version: string;
  server: ModelServerProcess;
}

/**
 * The direct path to one model server per model: each model is served by one registered version (its champion
 * unless told otherwise) in one server process, with no traffic split. Used by `ctloop serve`/`predict` until an
 * endpoint with canaries serves the model, and by tests and the benchmark. A server that has exited answers 503
 * (TransientError) naming why, never a silent failure.
 */
export class SingleVersionPredictor implements Predictor {
  private constructor(private readonly served: Map<string, ServedVersion>) {}

  /** Start one server per model for `ref` (a version or an alias) of each; fails naming models with no such version. */
  static async start(
    registry: ModelRegistry, models: { model: string; ref: string }[], opts: StartOptions = {},
    /** The version's artifacts as a local directory (registries hold gs:// URIs); default: the artifact URI as is. */
    modelDir: (model: string, version: string, artifactUri: string) => Promise<string> = async (_m, _v, uri) => uri,
  ): Promise<SingleVersionPredictor> {
    const served = new Map<string, ServedVersion>();
    try {
      for (const { model, ref } of models) {
        const v = await registry.getVersion(model, ref);
        if (!v) {
          const known = await registry.listVersions(model);
          throw new NotFoundError(`model ${model} has no version or alias "${ref}"`, {
            hint: known.length ? `versions: ${known.map((k) => `${k.version}${k.aliases.length ? ` (${k.aliases.join(', ')})` : ''}`).join(', ')}` : `no versions of ${model} are registered: train one first (ctloop train --model ${model})`,
          });
        }
        served.set(model, { model, version: v.version, server: await startModelServer(await modelDir(model, v.version, v.artifactUri), opts) });
      }
    } catch (err) {
      await Promise.all([...served.values()].map((s) => s.server.stop()));
      throw err;
    }
    return new SingleVersionPredictor(served);
  }

  /** Serve an already started process (tests, benchmark). */
  static of(versions: ServedVersion[]): SingleVersionPredictor {
    return new SingleVersionPredictor(new Map(versions.map((v) => [v.model, v])));
  }

  models(): ServedVersion[] {
    return [...this.served.values()];
  }

  async predict(model: string, instances: unknown[]): Promise<Prediction> {
    const s = this.served.get(model);
    if (!s) throw new NotFoundError(`model ${model} is not served here`, { hint: `served models: ${[...this.served.keys()].join(', ') || '(none)'}` });
    const why = s.server.exited();
    if (why !== null) throw new TransientError(`the server of ${model}@${s.version} ${why}`, { hint: 'restart ctloop serve; the endpoint restarts crashed servers by itself', details: { retryAfterSeconds: 5 } });
    const predictions = await s.server.predict(instances);
    return { predictions, model, version: s.version, deployedModelId: `local-${model}-${s.version}` };
  }

  async close(): Promise<void> {
    await Promise.all([...this.served.values()].map((s) => s.server.stop()));
  }
}
