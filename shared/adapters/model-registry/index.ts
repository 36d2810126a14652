import type { ModelRegistryConfig } from '../../config/config.js';
import type { ModelRegistry } from '../../ports/model-registry.js';
import type { ObjectStore } from '../../ports/object-store.js';
import type { Warehouse } from '../../ports/warehouse.js';
import { EmbeddedModelRegistry } from './embedded/index.js';

/**
 * The model registry chosen by configuration: embedded (warehouse tables + object store) or Vertex AI Model Registry.
 * The Vertex client is imported only when used. `apiEndpoint` is `host[:port]`; a loopback host (tests, stand-ins)
 * is reached without TLS.
 */
export type { ModelRegistryConfig };

export interface ModelRegistryDeps {
  warehouse: Warehouse;
  objectStore: ObjectStore;
  bucket: string;
}

export async function createModelRegistry(config: ModelRegistryConfig, deps: ModelRegistryDeps): Promise<ModelRegistry> {
  if (config.kind === 'embedded') return new EmbeddedModelRegistry(deps);
  const [{ v1 }, { VertexModelRegistry }, grpc] = await Promise.all([
    import('@google-cloud/aiplatform'), import('./vertex/index.js'), import('@grpc/grpc-js'),
  ]);
  const [host, port] = (config.apiEndpoint ?? `${config.region}-aiplatform.googleapis.com`).split(':') as [string, string | undefined];
  const loopback = host === 'localhost' || host === '127.0.0.1' || host === '::1';
  const client = new v1.ModelServiceClient({
    apiEndpoint: host, ...(port ? { port: Number(port) } : {}), ...(loopback ? { sslCreds: grpc.credentials.createInsecure() } : {}),
  });
  return new VertexModelRegistry({ client, project: config.project, region: config.region, objectStore: deps.objectStore, bucket: deps.bucket });
}
