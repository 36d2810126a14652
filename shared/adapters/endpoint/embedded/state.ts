import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeployedModel } from '../../../ports/endpoint.js';
import { ensureDir } from '../../../ensure-dir.js';

/**
 * The embedded endpoint's durable state, one JSON file per model under the state directory: what is deployed and
 * the traffic split. Every process that hosts the endpoint (the local loop, `ctloop serve`, the CLI) reads it, so a
 * deployment made by one is served by the others. Written whole to a temporary file and renamed (atomic).
 */
export interface StoredDeployment extends DeployedModel {
  /** Local directory holding the version's artifacts (model.bst, …). */
  modelDir: string;
}

export interface StoredEndpoint {
  model: string;
  /** Last deployment number handed out (ids are `<version>-<n>`). */
  seq: number;
  deployedModels: StoredDeployment[];
  trafficSplit: Record<string, number>;
}

export class EndpointStateFiles {
  /**
   * Parsed state per model, reused while the file's change time, inode and size are the same (one stat per read),
   * and for at most a second: file times are as coarse as the kernel's clock tick and a renamed file may reuse an
   * inode, so two writes of one size within a tick could look alike.
   */
  private readonly cache = new Map<string, { key: string; at: number; state: StoredEndpoint }>();

  constructor(readonly dir: string) {}

  /** The state, from the cache when the file has not changed since it was parsed (the serving path). */
  async readCached(model: string): Promise<StoredEndpoint | null> {
    let st;
    try {
      st = await stat(this.file(model), { bigint: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const key = `${st.ctimeNs}:${st.ino}:${st.size}`;
    const hit = this.cache.get(model);
    const now = Date.now();
    if (hit?.key === key && now - hit.at < 1000) return hit.state;
    const state = await this.read(model);
    if (state) this.cache.set(model, { key, at: now, state });
    return state;
  }

  private file(model: string): string {
    return join(this.dir, `${model}.json`);
  }

  async read(model: string): Promise<StoredEndpoint | null> {
    try {
      return JSON.parse(await readFile(this.file(model), 'utf8')) as StoredEndpoint;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async write(state: StoredEndpoint): Promise<void> {
    await ensureDir(this.dir);
    const tmp = `${this.file(state.model)}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
    await rename(tmp, this.file(state.model));
  }
}
