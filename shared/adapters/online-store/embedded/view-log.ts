import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import type { FeatureView } from '../../../features/definitions.js';
import { compareVersions, entityKey, type OnlineRecord } from '../../../ports/online-store.js';
import { decodeRecord, encodeLine, encodeRecord, type EncodedRecord } from '../codec.js';

/**
 * One view of the embedded online store: an in-memory index (entity key → latest record) backed by an append-only
 * JSON-lines log. Replaying the log applies newest-wins, so its line order does not matter and a record appended by
 * a write that lost a race is harmless. The log is compacted (rewritten with one line per entity, then renamed over
 * the old one) when it holds more than twice as many lines as entities.
 */
export class ViewLog {
  readonly index = new Map<string, OnlineRecord>();
  private lines = 0;
  private fh: FileHandle | null = null;
  /** Appends and compactions run one at a time (the index itself is only touched synchronously). */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly view: FeatureView, private readonly path: string, private readonly writable: boolean) {}

  static async open(view: FeatureView, path: string, writable: boolean): Promise<ViewLog> {
    const log = new ViewLog(view, path, writable);
    await log.load();
    return log;
  }

  private async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') text = '';
      else throw err;
    }
    let end = 0;
    for (let start = 0; start < text.length; ) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break; // a torn last line (the process died while appending): never acknowledged, dropped
      const line = text.slice(start, nl);
      start = end = nl + 1;
      if (line.length === 0) continue;
      this.lines++;
      this.apply(decodeRecord(this.view, JSON.parse(line) as EncodedRecord));
    }
    if (this.writable && end < text.length) await this.rewrite(); // drop the torn tail before appending after it
  }

  /** Make `r` the entity's record if it is newer than the one held; true when it was. */
  apply(r: OnlineRecord, k = entityKey(r.key)): boolean {
    const cur = this.index.get(k);
    if (cur && compareVersions(r, cur) <= 0) return false;
    this.index.set(k, r);
    return true;
  }

  /**
   * Append records durably (fsync), then apply them; returns how many became latest. `records` is keyed by
   * `entityKey` (one record per entity, as `newestPerEntity` gives), so each key is computed once.
   */
  append(records: Map<string, OnlineRecord>): Promise<number> {
    const run = this.queue.then(async () => {
      // Records no newer than what is held (held records are durable already) need no line.
      const fresh: [string, OnlineRecord][] = [];
      let text = '';
      for (const [k, r] of records) {
        const cur = this.index.get(k);
        if (cur && compareVersions(r, cur) <= 0) continue;
        fresh.push([k, r]);
        text += `${encodeLine(k, r)}\n`;
      }
      if (fresh.length === 0) return 0;
      const fh = (this.fh ??= await open(this.path, 'a'));
      await fh.appendFile(text, 'utf8');
      await fh.datasync();
      this.lines += fresh.length;
      let written = 0;
      for (const [k, r] of fresh) if (this.apply(r, k)) written++;
      if (this.lines > Math.max(10_000, 2 * this.index.size)) await this.rewrite();
      return written;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Bulk form of `append` for lines already encoded (`EncodedRecord` JSON, one per line, as `encodeRecord` writes
   * them; a file load builds them in SQL): the lines newer than what is held are appended as they are, made durable,
   * then applied, with the same newest-wins outcome as `append` of the decoded records. Returns how many became latest.
   */
  appendEncoded(lines: string[]): Promise<number> {
    const run = this.queue.then(async () => {
      // The newest line per entity of the batch, if newer than what is held.
      const fresh = new Map<string, { line: string; rec: OnlineRecord }>();
      const encoded = JSON.parse(`[${lines.join(',')}]`) as EncodedRecord[]; // one parse: cheaper than one per line
      if (encoded.length !== lines.length) throw new Error(`appendEncoded: ${lines.length} lines held ${encoded.length} records`);
      for (let n = 0; n < lines.length; n++) {
        const line = lines[n]!;
        const rec = decodeRecord(this.view, encoded[n]!);
        const k = entityKey(rec.key);
        const cur = fresh.get(k)?.rec ?? this.index.get(k);
        if (!cur || compareVersions(rec, cur) > 0) fresh.set(k, { line, rec });
      }
      if (fresh.size === 0) return 0;
      const fh = (this.fh ??= await open(this.path, 'a'));
      let text: string[] = [];
      let size = 0;
      for (const { line } of fresh.values()) {
        text.push(line, '\n');
        size += line.length;
        if (size >= 8 << 20) {
          await fh.appendFile(text.join(''), 'utf8');
          text = [];
          size = 0;
        }
      }
      await fh.appendFile(text.join(''), 'utf8');
      await fh.datasync();
      this.lines += fresh.size;
      // Appends run one at a time (this queue), so the index has not changed since `fresh` was computed against it.
      for (const [k, { rec }] of fresh) this.index.set(k, rec);
      if (this.lines > Math.max(10_000, 2 * this.index.size)) await this.rewrite();
      return fresh.size;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Rewrite the log with one line per entity (write a temp file, fsync, rename over the log). */
  private async rewrite(): Promise<void> {
    await this.fh?.close();
    this.fh = null;
    const tmp = `${this.path}.tmp`;
    const out = await open(tmp, 'w');
    try {
      let chunk: string[] = [];
      for (const r of this.index.values()) {
        chunk.push(`${JSON.stringify(encodeRecord(r))}\n`);
        if (chunk.length >= 10_000) {
          await out.appendFile(chunk.join(''), 'utf8');
          chunk = [];
        }
      }
      await out.appendFile(chunk.join(''), 'utf8');
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(tmp, this.path);
    this.lines = this.index.size;
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.writable && this.lines > this.index.size) await this.rewrite();
    await this.fh?.close();
    this.fh = null;
  }
}
