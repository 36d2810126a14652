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

type State = 'start' | 'bare' | 'quoted' | 'quote' | 'closed' | 'cr';

export async function stageCsvCopy(path: string, gz: boolean, delimiter: string, columns: number, out: string): Promise<StageOutcome> {
  const delim = delimiter.charCodeAt(0);
  const input = gz ? createReadStream(path, { highWaterMark: 1 << 20 }).pipe(createGunzip()) : createReadStream(path, { highWaterMark: 1 << 20 });
  const output = createWriteStream(out);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let line = 1;
  let recordLine = 1;
  let row = -1; // the header is record -1
  let fields = 0;
  let state: State = 'start';
  let bytes = 0; // bytes of the current record so far
  let first = true;
  let tail: Buffer = Buffer.alloc(0);
  const fail = (why: string): StageOutcome => ({ fallback: why });
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
      tail = buf.subarray(Math.max(0, buf.length - MARKER.length + 1));
      if (first) {
        first = false;
        if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
      }
      const parts: Buffer[] = [];
      let from = 0; // start of the bytes not yet copied
      const emit = row >= 0;
      let copying = emit;
      const cut = (i: number) => { if (copying && i > from) parts.push(buf.subarray(from, i)); from = i; };
      const endRecord = (i: number): StageOutcome | null => {
        if (bytes >= MAX_RECORD_CHARS) return fail(`line ${recordLine} is longer than the row-by-row reader reads in one record`);
        if (fields + 1 !== columns) return fail(`line ${recordLine} has ${fields + 1} fields where the header has ${columns}`);
        cut(i);
        if (copying) parts.push(Buffer.of(NL));
        row++;
        fields = 0;
        bytes = 0;
        copying = true;
        return null;
      };
      for (let i = 0; i < buf.length; i++) {
        const b = buf[i]!;
        if (state === 'cr') {
          if (b !== NL) return fail(`line ${line} has a carriage return that does not end it`);
          state = 'start';
          from = i + 1; // the CR and this LF are replaced by the LF endRecord wrote
          line++;
          recordLine = line;
          continue;
        }
        if (state === 'quote') {
          if (b === QUOTE) { state = 'quoted'; bytes++; continue; }
          state = 'closed';
        }
        if (state === 'quoted') {
          if (b === QUOTE) state = 'quote';
          else if (b === NL) line++;
          bytes++;
          continue;
        }
        if (state === 'start' && bytes === 0 && row >= 0) {
          if (b === NL || b === CR) return fail(`line ${line} is blank`);
          cut(i);
          if (copying) parts.push(Buffer.from(`${row}${delimiter}${recordLine}${delimiter}`, 'latin1'));
        }
        if (b === delim || b === NL || b === CR) {
          if (state === 'start') {
            cut(i);
            if (copying) parts.push(MARKER);
          }
          if (b === delim) {
            fields++;
            bytes++;
            state = 'start';
            continue;
          }
          const done = endRecord(i);
          if (done) return done;
          if (b === CR) {
            state = 'cr';
            from = i + 1;
            continue;
          }
          from = i + 1; // the LF itself is written by endRecord
          line++;
          recordLine = line;
          state = 'start';
          continue;
        }
        if (state === 'closed') return fail(`line ${line} has a quote that does not close its field`);
        if (b === QUOTE) {
          if (state !== 'start') return fail(`line ${line} has a quote inside an unquoted value`);
          state = 'quoted';
        } else if (state === 'start') state = 'bare';
        bytes++;
      }
      cut(buf.length);
      if (parts.length > 0 && !output.write(Buffer.concat(parts))) await once(output, 'drain');
    }
    try {
      utf8.decode();
    } catch {
      return fail('the file is not UTF-8');
    }
    if (state === 'quoted') return fail(`line ${recordLine} opens a quote that is never closed`);
    if (state === 'cr') return fail(`line ${line} ends with a lone carriage return`);
    if (bytes >= MAX_RECORD_CHARS) return fail(`line ${recordLine} is longer than the row-by-row reader reads in one record`);
    if (bytes > 0 || state !== 'start' || fields > 0) {
      // The last record, without a line end.
      const parts: Buffer[] = [];
      if (state === 'start' && row >= 0) parts.push(MARKER);
      if (fields + 1 !== columns) return fail(`line ${recordLine} has ${fields + 1} fields where the header has ${columns}`);
      parts.push(Buffer.of(NL));
      if (row >= 0 && !output.write(Buffer.concat(parts))) await once(output, 'drain');
      row++;
    }
    return { rows: Math.max(row, 0) };
  } finally {
    output.end();
    await once(output, 'close').catch(() => undefined);
    input.destroy();
  }
}
