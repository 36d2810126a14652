import { open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, NotFoundError } from '../../../errors.js';
import type { FeatureView } from '../../../features/definitions.js';
import { entityKey, newestPerEntity, type OnlineRecord, type OnlineStore, type OnlineWriteResult } from '../../../ports/online-store.js';
import { ViewLog } from './view-log.js';
import { ensureDir } from '../../../ensure-dir.js';

export interface EmbeddedOnlineStoreOptions {
  /** Folder of the store (`<state dir>/online`): one log file per view, plus the writer's lock. */
  dir: string;
  /** Open for reading only: nothing is created, locked or compacted (a missing folder reads as empty). */
  readOnly?: boolean;
}

/**
 * The embedded online store: per view an in-process index (a Map from entity key to its latest record, so a point
 * read is a hash lookup) persisted as an append-only log under the state directory (see ViewLog). Writes are
 * durable (fsync) before they resolve. Writers within a process may run concurrently; one process writes a state
 * directory at a time (it holds `LOCK`, as DuckDB holds its file); readers in other processes see what was written
 * before they opened the store.
 */
export class EmbeddedOnlineStore implements OnlineStore {
  readonly kind = 'embedded' as const;
  private readonly views = new Map<string, Promise<ViewLog>>();
  private locked = false;
  private closed = false;

  private constructor(private readonly opts: EmbeddedOnlineStoreOptions) {}

  static async open(opts: EmbeddedOnlineStoreOptions): Promise<EmbeddedOnlineStore> {
    const store = new EmbeddedOnlineStore(opts);
    if (!opts.readOnly) await store.lock();
    return store;
  }

  private async lock(): Promise<void> {
    await ensureDir(this.opts.dir);
    const path = join(this.opts.dir, 'LOCK');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(path, 'wx');
        await fh.writeFile(String(process.pid));
        await fh.close();
        this.locked = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
        if (pid > 0 && pid !== process.pid && alive(pid)) {
          throw new ConfigError(`the embedded online store ${this.opts.dir} is being written by process ${pid}`, {
            hint: `stop process ${pid} (e.g. a running \`ctloop run\`) first, or point CTLOOP_STATE_DIR elsewhere; reads work meanwhile`,
            details: { variable: 'CTLOOP_STATE_DIR', path: this.opts.dir, pid },
          });
        }
        await rm(path, { force: true }); // left by a process that is gone
      }
    }
    throw new ConfigError(`cannot lock the embedded online store ${this.opts.dir}`, { hint: 'retry; another process is opening it at the same time' });
  }

  private viewLog(view: FeatureView): Promise<ViewLog> {
    if (this.closed) throw new Error('the embedded online store is closed');
    let v = this.views.get(view.name);
    if (!v) {
      v = ViewLog.open(view, join(this.opts.dir, `${view.name}.jsonl`), !this.opts.readOnly);
      this.views.set(view.name, v);
      v.catch(() => this.views.delete(view.name));
    }
    return v;
  }

  async write(view: FeatureView, records: OnlineRecord[]): Promise<OnlineWriteResult> {
    if (this.opts.readOnly) throw new Error('the embedded online store was opened read-only');
    if (records.length === 0) return { written: 0, superseded: 0 };
    const written = await (await this.viewLog(view)).append(newestPerEntity(records));
    return { written, superseded: records.length - written };
  }

  /**
   * Bulk write of records already encoded as the store's log lines (`EncodedRecord` JSON, see ../codec.ts), e.g. the
   * newest row per entity of a file load built in SQL: no per-record encoding in JavaScript. Same outcome as
   * `write` of the decoded records (newest wins, per entity, against what is held and within the batch).
   */
  async writeEncoded(view: FeatureView, lines: string[]): Promise<OnlineWriteResult> {
    if (this.opts.readOnly) throw new Error('the embedded online store was opened read-only');
    if (lines.length === 0) return { written: 0, superseded: 0 };
    const written = await (await this.viewLog(view)).appendEncoded(lines);
    return { written, superseded: lines.length - written };
  }

  async read(view: FeatureView, keys: (string | number)[][]): Promise<(OnlineRecord | null)[]> {
    if (this.opts.readOnly && !this.views.has(view.name)) await this.assertExists();
    const index = (await this.viewLog(view)).index;
    return keys.map((k) => index.get(entityKey(k)) ?? null);
  }

  /** A reader of a state directory where nothing was ever written says so (rather than NOT_FOUND for every key). */
  private async assertExists(): Promise<void> {
    const st = await stat(this.opts.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (!st) {
      throw new NotFoundError(`nothing has been stored yet: there is no online store at ${this.opts.dir}`, {
        hint: 'create the tables with `ctloop features apply` and ingest rows (`ctloop features ingest`), or check CTLOOP_STATE_DIR',
        details: { variable: 'CTLOOP_STATE_DIR', path: this.opts.dir },
      });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const logs = await Promise.allSettled([...this.views.values()]);
    for (const l of logs) if (l.status === 'fulfilled') await l.value.close();
    if (this.locked) await rm(join(this.opts.dir, 'LOCK'), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
