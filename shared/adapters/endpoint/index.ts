import { stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { EndpointConfig } from '../../delivery/config.js';
import { NotFoundError } from '../../errors.js';
import type { Endpoint } from '../../ports/endpoint.js';
import type { ModelRegistry } from '../../ports/model-registry.js';
import type { ObjectStore } from '../../ports/object-store.js';
import { modelServerCommand } from '../../serving/server-command.js';
import { EmbeddedEndpoint } from './embedded/index.js';
import type { ServerCommand, SupervisorOptions } from './embedded/supervisor.js';
import { ensureDir } from '../../ensure-dir.js';

/**
 * The endpoint chosen by configuration. Embedded: versions' artifacts are copied from the object store into
 * `<endpoints dir>/models/<model>/<version>/` once and served from there by server/server.py. Vertex: the client is
 * imported only when used; a loopback `apiEndpoint` (stand-ins) is reached without TLS.
 */
export type ClosableEndpoint = Endpoint & { readonly kind: 'embedded' | 'vertex'; close(): Promise<void> };

export interface EndpointDeps {
  registry: ModelRegistry;
  objectStore: ObjectStore;
  bucket: string;
  /** Embedded only: the server program (default: modelServerCommand()) and supervision settings. */
  command?: ServerCommand;
  supervisor?: Partial<SupervisorOptions>;
}

/** A registered version's artifact directory, as a local directory. */
export async function localModelDir(deps: Pick<EndpointDeps, 'registry' | 'objectStore'>, cacheDir: string, model: string, version: string): Promise<string> {
  const v = await deps.registry.getVersion(model, version);
  if (!v) throw new NotFoundError(`model ${model} has no version ${version}`, { hint: 'list versions with `ctloop models list`' });
  const uri = v.artifactUri;
  if (!uri.startsWith('gs://')) return uri.replace(/^file:\/\//, '');
  const dir = join(cacheDir, model, v.version);
  const done = join(dir, '.complete');
  if (await stat(done).then(() => true, () => false)) return dir;
  const prefix = uri.endsWith('/') ? uri : `${uri}/`;
  const objects = await deps.objectStore.list(prefix);
  if (objects.length === 0) throw new NotFoundError(`model ${model} version ${version} has no artifacts under ${prefix}`, { hint: 'the trainer writes model.bst there; check the training run' });
  for (const o of objects) {
    const local = join(dir, o.uri.slice(prefix.length));
    await ensureDir(dirname(local));
    await deps.objectStore.download(o.uri, local);
  }
  await writeFile(done, '');
  return dir;
}

export async function createEndpoint(config: EndpointConfig, deps: EndpointDeps): Promise<ClosableEndpoint> {
  if (config.kind === 'embedded') {
    const e = new EmbeddedEndpoint({
      dir: config.dir, command: deps.command ?? modelServerCommand(), ...(deps.supervisor ? { supervisor: deps.supervisor } : {}),
      modelDir: (model, version) => localModelDir(deps, join(config.dir, 'models'), model, version),
    });
    return e;
  }
  const [{ v1 }, { VertexEndpoint }, grpc] = await Promise.all([import('@google-cloud/aiplatform'), import('./vertex/index.js'), import('@grpc/grpc-js')]);
  const [host, port] = (config.apiEndpoint ?? `${config.region}-aiplatform.googleapis.com`).split(':') as [string, string | undefined];
  const loopback = host === 'localhost' || host === '127.0.0.1' || host === '::1';
  const opts = { apiEndpoint: host, ...(port ? { port: Number(port) } : {}), ...(loopback ? { sslCreds: grpc.credentials.createInsecure() } : {}) };
  const endpoints = new v1.EndpointServiceClient(opts);
  const prediction = new v1.PredictionServiceClient(opts);
  const e = new VertexEndpoint({
    endpoints, prediction, project: config.project, region: config.region, endpointIds: { '*': config.endpointId },
    machineType: config.machineType, minReplicas: config.minReplicas, maxReplicas: config.maxReplicas, serviceAccount: config.serviceAccount,
    objectStore: deps.objectStore, bucket: deps.bucket,
  });
  return Object.assign(e, { close: async () => { await Promise.all([endpoints.close(), prediction.close()]); } });
}
