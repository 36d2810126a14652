import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import { MAX_RECORD_CHARS } from './csv-records.js';

/**
 * A CSV file rewritten for one BigQuery load job: every record prefixed with its record number (0-based, the ingest
 * id's row) and the line it starts on, the header dropped, empty unquoted values replaced by a null marker, CRLF
 * line ends written as LF. Nothing else of a record changes (its bytes are copied), so BigQuery reads the values the
 * row-by-row reader reads.
 *
 * Why a rewritten copy instead of loading the file where it is: a load job does not keep the order of records nor
 * say which line a record came from (BigQuery's CSV loader splits a file and reads the parts in parallel), and both
 * are part of what is stored (the ingest id `file:<hash>:<row>`, the quarantine's "line N"). And BigQuery's default
 * null marker is the empty string, under which `,,` and `,"",` may load alike, where the row-by-row reader reads NULL
 * and '' (a STRING feature keeps the difference): with a marker of its own (`nullMarker`), BigQuery loads an empty
 * value as '' ("For STRING and BYTE columns, BigQuery interprets the empty string as an empty value", load job
 * configuration reference, `nullMarker`) and only the marker as NULL.
 *
 * The one pass also checks what would make BigQuery's reading differ from the row-by-row reader's, and says so
 * (`fallback`) before anything is uploaded: bytes that are not UTF-8 (BigQuery replaces them with U+FFFD where the
 * row-by-row path refuses the file), a record whose field count differs from the header's, a blank line, a carriage
 * return that does not end a line, a quote that does not open or close a field (as csv-scan.ts), a value holding
 * the null marker, a record of more bytes than the row-by-row reader's longest record in characters (it quarantines
 * those; a UTF-8 byte count is at least the character count, so no record it refuses gets through).
 */

/** U+FFFF, a Unicode noncharacter: a value holding it sends the file row by row (see above). */
export const NULL_MARKER = '\uffff';
const MARKER = Buffer.from(NULL_MARKER, 'utf8');

const NL = 10;
const CR = 13;
const QUOTE = 34;

export type StageOutcome = { rows: number } | { fallback: string };

// Where the reader is: at the start of a field, in an unquoted value, in a quoted one, just after a quote inside a
// quoted value (an escape or the close), after a closing quote, after a carriage return outside quotes.
const START = 0, BARE = 1, QUOTED = 2, QUOTE_SEEN = 3, CLOSED = 4, AFTER_CR = 5;

/** Output of one chunk: copied byte ranges and inserted texts, in order, written at once. */
class Out {
  private buf = Buffer.allocUnsafe(1 << 16);
  len = 0;
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  bytes(src: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.room(to - from);
    src.copy(this.buf, this.len, from, to);
    this.len += to - from;
  }
  text(s: string): void {
    this.room(s.length);
    this.len += this.buf.write(s, this.len, 'latin1');
  }
  marker(): void {
    this.room(MARKER.length);
    MARKER.copy(this.buf, this.len);
    this.len += MARKER.length;
  }
  take(): Buffer {
    const b = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    return b;
  }
}

export async function stageCsvCopy(path: string, gz: boolean, delimiter: string, columns: number, out: string, chunkBytes = 1 << 20): Promise<StageOutcome> {
  const delim = delimiter.charCodeAt(0);
  const input = gz ? createReadStream(path, { highWaterMark: chunkBytes }).pipe(createGunzip()) : createReadStream(path, { highWaterMark: chunkBytes });
  const output = createWriteStream(out);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  /** Bytes that end an unquoted value or need a look: the delimiter, LF, CR, the quote. */
  const special = new Uint8Array(256);
  special[delim] = special[NL] = special[CR] = special[QUOTE] = 1;
  const o = new Out();
  let line = 1;
  let recordLine = 1;
  let row = -1; // the header is record -1 (read, checked, not written)
  let fields = 0;
  let state = START;
  let bytes = 0; // bytes of the current record so far
  let first = true;
  let tail: Buffer = Buffer.alloc(0);
  const fail = (why: string): StageOutcome => ({ fallback: why });
  const tooLong = () => fail(`line ${recordLine} is longer than the row-by-row reader reads in one record`);
  try {
    for await (const chunk of input) {
      let buf = chunk as Buffer;
      try {
        utf8.decode(buf, { stream: true });
      } catch {
        return fail('the file is not UTF-8');
      }
      const probe = tail.length > 0 ? Buffer.concat([tail, buf.subarray(0, MARKER.length)]) : null;
      if (buf.includes(MARKER) || probe?.includes(MARKER)) return fail('a value holds U+FFFF, the null marker of the BigQuery load');
      tail = Buffer.from(buf.subarray(Math.max(0, buf.length - MARKER.length + 1)));
      if (first) {
        first = false;
        if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
      }
      const n = buf.length;
      let from = 0; // start of the bytes of this chunk not yet copied
      const copy = (i: number) => { if (row >= 0) o.bytes(buf, from, i); from = i; };
      let i = 0;
      while (i < n) {
        const b = buf[i]!;
        if (state === QUOTED) {
          // Up to the next quote, counting the newlines inside the value.
          const q = buf.indexOf(QUOTE, i);
          const end = q < 0 ? n : q;
          for (let k = buf.indexOf(NL, i); k >= 0 && k < end; k = buf.indexOf(NL, k + 1)) line++;
          bytes += end - i + (q < 0 ? 0 : 1);
          if (q < 0) { i = n; break; }
          state = QUOTE_SEEN;
          i = q + 1;
          continue;
        }
        if (state === AFTER_CR) {
          if (b !== NL) return fail(`line ${line} has a carriage return that does not end it`);
          state = START;
          from = i + 1; // the CR and this LF are replaced by the LF written at the record's end
          line++;
          recordLine = line;
          i++;
          continue;
        }
        if (state === QUOTE_SEEN) {
          if (b === QUOTE) { state = QUOTED; bytes++; i++; continue; }
          state = CLOSED;
        }
        if (state === START && bytes === 0 && row >= 0) {
          if (b === NL || b === CR) return fail(`line ${line} is blank`);
          copy(i);
          o.text(`${row}${delimiter}${recordLine}${delimiter}`);
        }
        if (b === delim || b === NL || b === CR) {
          if (state === START) {
            copy(i);
            if (row >= 0) o.marker();
          }
          if (b === delim) {
            fields++;
            bytes++;
            state = START;
            i++;
            continue;
          }
          // The record ends here.
          if (bytes >= MAX_RECORD_CHARS) return tooLong();
          if (fields + 1 !== columns) return fail(`line ${recordLine} has ${fields + 1} fields where the header has ${columns}`);
          copy(i);
          if (row >= 0) o.text('\n');
          row++;
          fields = 0;
          bytes = 0;
          from = i + 1;
          if (b === CR) {
            state = AFTER_CR;
          } else {
            line++;
            recordLine = line;
            state = START;
          }
          i++;
          continue;
        }
        if (state === CLOSED) return fail(`line ${line} has a quote that does not close its field`);
        if (b === QUOTE) {
          if (state !== START) return fail(`line ${line} has a quote inside an unquoted value`);
          state = QUOTED;
          bytes++;
          i++;
          continue;
        }
        // An unquoted value: skip to the next byte that needs a look.
        state = BARE;
        let k = i + 1;
        while (k < n && special[buf[k]!] === 0) k++;
        bytes += k - i;
        i = k;
      }
      copy(n);
      if (o.len > 0 && !output.write(o.take())) await once(output, 'drain');
    }
    try {
      utf8.decode();
    } catch {
      return fail('the file is not UTF-8');
    }
    if (state === QUOTED) return fail(`line ${recordLine} opens a quote that is never closed`);
    if (state === AFTER_CR) return fail(`line ${line} ends with a lone carriage return`);
    if (bytes >= MAX_RECORD_CHARS) return tooLong();
    if (bytes > 0 || fields > 0) {
      // The last record, without a line end.
      if (fields + 1 !== columns) return fail(`line ${recordLine} has ${fields + 1} fields where the header has ${columns}`);
      if (row >= 0) {
        if (state === START) o.marker();
        o.text('\n');
        if (!output.write(o.take())) await once(output, 'drain');
      }
      row++;
    }
    return { rows: Math.max(row, 0) };
  } finally {
    output.end();
    await once(output, 'close').catch(() => undefined);
    input.destroy();
  }
}
