import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

/**
 * One pass over a CSV file's bytes (native `indexOf`, no parsing of values) that tells whether DuckDB's reader will
 * see the same records as ctloop's (csv-records.ts), and how many lines the file has, so an engine load can number
 * rows by line exactly:
 * - `lines`: newline characters, plus one for a last line without a newline (the row-by-row reader's line count);
 * - `quotesAgree`: every `"` opens a field (at its start) or closes one (followed by the delimiter or a line end).
 *   DuckDB reads ` "a" ` as `a` where ctloop reads the text as it is; any such quote sends the file row by row.
 */
export interface CsvScan {
  lines: number;
  quotesAgree: boolean;
  /** Whether the file holds a `"` at all (without one, no value spans lines). */
  quoted: boolean;
}

const NL = 10;
const CR = 13;
const QUOTE = 34;

export async function scanCsv(path: string, delimiter: string, gz: boolean): Promise<CsvScan> {
  const delim = delimiter.charCodeAt(0);
  const input = gz ? createReadStream(path, { highWaterMark: 1 << 20 }).pipe(createGunzip()) : createReadStream(path, { highWaterMark: 1 << 20 });
  let lines = 0;
  let last = NL; // the byte before the current chunk (a file starts as after a line end)
  let inQuote = false;
  /** Inside a quoted value, a `"` ended the last chunk: the next byte says whether it was `""` or the close. */
  let pendingClose = false;
  let agree = true;
  let quoted = false;
  const closeOk = (b: number | undefined) => b === undefined || b === delim || b === NL || b === CR;
  for await (const chunk of input) {
    const buf = chunk as Buffer;
    for (let i = buf.indexOf(NL); i >= 0; i = buf.indexOf(NL, i + 1)) lines++;
    if (!quoted && (pendingClose || buf.indexOf(QUOTE) >= 0)) quoted = true;
    if (agree && quoted) {
      let i = 0;
      if (pendingClose) {
        pendingClose = false;
        if (buf[0] === QUOTE) i = 1;
        else if (closeOk(buf[0])) inQuote = false;
        else agree = false;
      }
      while (agree && i < buf.length) {
        const q = buf.indexOf(QUOTE, i);
        if (q < 0) break;
        if (!inQuote) {
          const before = q === 0 ? last : buf[q - 1]!;
          if (before !== delim && before !== NL) agree = false;
          inQuote = true;
          i = q + 1;
          continue;
        }
        if (q + 1 === buf.length) {
          pendingClose = true;
          i = q + 1;
          break;
        }
        if (buf[q + 1] === QUOTE) {
          i = q + 2;
          continue;
        }
        if (!closeOk(buf[q + 1])) agree = false;
        inQuote = false;
        i = q + 1;
      }
    }
    if (buf.length > 0) last = buf[buf.length - 1]!;
  }
  if (last !== NL) lines++;
  return { lines, quotesAgree: agree && (!inQuote || pendingClose), quoted };
}
