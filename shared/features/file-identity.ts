import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { ValidationError } from '../errors.js';
import type { FileFormat } from '../ports/warehouse.js';

/**
 * What a file is, by content: a hash of its bytes (and format), so the same bytes load once whatever path or URI
 * names them, and a changed file is a new version. The same pass checks what would otherwise fail half-way through
 * a load: a gzip file must be complete, and a text file (CSV, JSONL) must be UTF-8. Either failure rejects the file
 * as a whole before any row is written.
 */
export async function fileIdentity(path: string, format: FileFormat, label = path): Promise<string> {
  const hash = createHash('sha256').update(`${format}\n`);
  const gz = isGzip(path, label);
  const utf8 = format === 'parquet' ? undefined : new Utf8Check();
  const hasher = new Transform({ transform(c: Buffer, _e, cb) { hash.update(c); cb(null, c); } });
  const sink = new Writable({ write(c: Buffer, _e, cb) { utf8?.push(c); cb(); } });
  try {
    await (gz ? pipeline(createReadStream(path), hasher, createGunzip(), sink) : pipeline(createReadStream(path), hasher, sink));
  } catch (err) {
    if (gz && String((err as { code?: unknown }).code).startsWith('Z_')) {
      throw new ValidationError(`${label} is not a complete gzip file (${(err as Error).message}); nothing was loaded`, {
        hint: 'the file is truncated or corrupt: copy or compress it again, then load it again', cause: err,
      });
    }
    throw err;
  }
  if (utf8 && !utf8.end()) {
    const kind = await binaryKind(path, gz);
    if (kind) {
      throw new ValidationError(`${label} is not ${format === 'csv' ? 'CSV' : 'JSON Lines'} text: it looks like ${kind}; nothing was loaded`, {
        hint: kind === 'Parquet' ? 'load it as Parquet (name it .parquet, or pass --file-format parquet)' : 'name it with a .gz suffix (e.g. rows.csv.gz) so it is decompressed',
      });
    }
    const where = await firstInvalidLine(path, gz);
    throw new ValidationError(`${label} is not valid UTF-8: line ${where.line} (byte offset ${where.byte} of the ${gz ? 'uncompressed ' : ''}file) holds an invalid byte sequence; nothing was loaded`, {
      hint: 'save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 in.csv > out.csv`), then load it again',
      details: where,
    });
  }
  return hash.digest('hex').slice(0, 32);
}

/** A gzip-compressed file, by the name of the file or of the object it was copied from. */
export function isGzip(path: string, label = path): boolean {
  return /\.gz$/i.test(path) || /\.gz$/i.test(label);
}

/** A binary format a text file turned out to be, by its first bytes. */
async function binaryKind(path: string, gz: boolean): Promise<string | undefined> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    await fh.read(head, 0, 4, 0);
    if (head.toString('latin1') === 'PAR1') return 'Parquet';
    if (!gz && head[0] === 0x1f && head[1] === 0x8b) return 'a gzip-compressed file';
    return undefined;
  } finally {
    await fh.close();
  }
}

/** Incremental UTF-8 validation over chunks that may split a character. */
class Utf8Check {
  private tail: Buffer = Buffer.alloc(0);
  private ok = true;

  push(chunk: Buffer): void {
    if (!this.ok) return;
    const buf = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
    const cut = completeUpTo(buf);
    if (!isUtf8(buf.subarray(0, cut))) this.ok = false;
    this.tail = Buffer.from(buf.subarray(cut));
  }

  end(): boolean {
    return this.ok && (this.tail.length === 0 || isUtf8(this.tail));
  }
}

/** Length of the prefix of `buf` that ends on a character boundary (a split multi-byte sequence is left over). */
function completeUpTo(buf: Buffer): number {
  for (let i = buf.length - 1; i >= 0 && i >= buf.length - 4; i--) {
    const b = buf[i]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte
    if (b < 0x80) return buf.length;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return buf.length - i >= need ? buf.length : i;
  }
  return buf.length;
}

/** Slow path, only for a file already known to be invalid: find the first line that is not UTF-8. */
async function firstInvalidLine(path: string, gz: boolean): Promise<{ line: number; byte: number }> {
  const input = gz ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
  let line = 1;
  let byte = 0;
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of input) {
    let buf = Buffer.concat([pending, chunk as Buffer]);
    for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10)) {
      if (!isUtf8(buf.subarray(0, nl))) return { line, byte: byte + badOffset(buf.subarray(0, nl)) };
      byte += nl + 1;
      line++;
      buf = buf.subarray(nl + 1);
    }
    pending = Buffer.from(buf);
  }
  return { line, byte: byte + badOffset(pending) };
}

function badOffset(line: Buffer): number {
  let lo = 0;
  let hi = line.length;
  // The shortest invalid prefix ends at the first bad byte (give or take a split character).
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (isUtf8(line.subarray(0, completeUpTo(line.subarray(0, mid + 1))))) lo = mid + 1;
    else hi = mid;
  }
  // No prefix is invalid when the line only ends in a cut sequence: the bad byte is where that sequence starts.
  return lo < line.length ? lo : completeUpTo(line);
}
