/**
 * A streaming CSV record parser (RFC 4180: `"` quotes, `""` inside quotes, CRLF or LF) that accounts for every line
 * of its input: each record comes out with the line it starts on, either as fields or as an error for that line.
 * Nothing is skipped silently and no error ends the stream early, so a loader can store or quarantine every row.
 *
 * - An unquoted empty field is null; a quoted one (`""`) is the empty string (as DuckDB reads them).
 * - Blank lines are not records.
 * - A quoted value may span lines. A quote that is still open at the end of the input, or after `maxRecordChars`,
 *   makes the line it opened on an error (truncated file or stray quote), and parsing resumes on the next line, so
 *   one stray quote costs one line, not the rest of the file.
 * - A line longer than `maxRecordChars` is an error; it is skipped up to its end without being held in memory.
 */

export type CsvRecord = { line: number; fields: (string | null)[] } | { line: number; error: string; text: string };

/** Default longest record, in characters (DuckDB's default `max_line_size` is 2,000,000 bytes). */
export const MAX_RECORD_CHARS = 2_000_000;
/** How much of a bad line is kept (as raw text in quarantine). */
export const RAW_TEXT_CHARS = 1_000;

const NL = 10;
const CR = 13;
const QUOTE = 34;

type Parsed = { kind: 'record'; end: number; fields: (string | null)[]; newlines: number } | { kind: 'error'; end: number; error: string } | { kind: 'incomplete'; openQuote: boolean };

export class CsvRecordParser {
  private buf = '';
  private line = 1;
  /** Discarding the rest of an over-long line, up to its end. */
  private skipping = false;
  /** Sniffed from the first line. */
  private delimiter: string | undefined;
  /** Fields every record must have: the first record's (the header's) count. */
  private expected: number | undefined;

  private readonly max: number;

  constructor(opts: { maxRecordChars?: number } = {}) {
    this.max = opts.maxRecordChars ?? MAX_RECORD_CHARS;
  }

  /** The start of an over-long line: the same whatever the chunks (the buffer always holds more than this). */
  private longStart(buf: string, pos: number): string {
    return `${buf.slice(pos, pos + Math.min(RAW_TEXT_CHARS, this.max))}…`;
  }

  /** Feed a chunk of text; returns the records it completed. */
  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    this.buf += chunk;
    this.drain(out, false);
    return out;
  }

  /** The input has ended: returns the last records. */
  end(): CsvRecord[] {
    const out: CsvRecord[] = [];
    this.drain(out, true);
    return out;
  }

  private drain(out: CsvRecord[], eof: boolean): void {
    let pos = 0;
    const buf = this.buf;
    if (this.line === 1 && buf.charCodeAt(0) === 0xfeff) pos = 1; // UTF-8 byte order mark
    for (;;) {
      if (this.skipping) {
        const nl = buf.indexOf('\n', pos);
        if (nl < 0) {
          pos = buf.length;
          if (eof) this.skipping = false;
          break;
        }
        this.skipping = false;
        this.line++;
        pos = nl + 1;
        continue;
      }
      if (pos >= buf.length) break;
      const c = buf.charCodeAt(pos);
      if (c === NL) { // blank line
        this.line++;
        pos++;
        continue;
      }
      if (c === CR && pos + 1 === buf.length) {
        if (!eof) break; // \r\n may be split across chunks
        pos++;
        continue;
      }
      if (c === CR && buf.charCodeAt(pos + 1) === NL) {
        this.line++;
        pos += 2;
        continue;
      }
      if (this.delimiter === undefined) {
        if (!eof && buf.indexOf('\n', pos) < 0 && buf.length - pos <= this.max) break; // sniff on a whole first line
        this.delimiter = sniffDelimiter(buf, pos);
      }
      const p = parseRecord(buf, pos, this.delimiter, eof);
      if (p.kind === 'record' && p.end - pos > this.max) {
        // Too long to keep: blame its first line (and read on from the next one when a quote made it span lines).
        const nl = buf.indexOf('\n', pos);
        const oneLine = p.newlines === 0 || nl - pos > this.max;
        out.push({
          line: this.line,
          error: oneLine ? `line is longer than ${this.max.toLocaleString('en-US')} characters` : `a quoted value is not closed within ${this.max.toLocaleString('en-US')} characters (a stray " on this line?)`,
          text: oneLine ? this.longStart(buf, pos) : clip(buf.slice(pos, lineEnd(buf, pos))),
        });
        if (p.newlines === 0) {
          this.line++;
          pos = p.end;
        } else if (oneLine) {
          this.skipping = true;
        } else {
          this.line++;
          pos = nl + 1;
        }
        continue;
      }
      if (p.kind === 'record') {
        const want = this.expected;
        if (want !== undefined && p.fields.length !== want) {
          // A ragged record. If it spans lines (a quote opened in it), only its first line is blamed and the next
          // line is read afresh: a stray quote then costs one line.
          const error = `ragged row: ${p.fields.length} fields where the header has ${want}`;
          const end = p.newlines > 0 ? buf.indexOf('\n', pos) + 1 : p.end;
          out.push({ line: this.line, error: p.newlines > 0 ? `${error} (a quote opened on this line is closed only on a later line)` : error, text: clip(buf.slice(pos, lineEnd(buf, pos))) });
          this.line++;
          pos = end;
          continue;
        }
        out.push({ line: this.line, fields: p.fields });
        this.expected ??= p.fields.length; // the first record is the header
        this.line += p.newlines + 1;
        pos = p.end;
        continue;
      }
      if (p.kind === 'error') {
        out.push({ line: this.line, error: p.error, text: clip(buf.slice(pos, lineEnd(buf, pos))) });
        this.line++;
        pos = p.end;
        continue;
      }
      // Incomplete: wait for more input, unless the input ended or the record is already too long.
      if (!eof && buf.length - pos <= this.max) break;
      const nl = buf.indexOf('\n', pos);
      if ((nl < 0 ? buf.length : nl) - pos > this.max) {
        out.push({ line: this.line, error: `line is longer than ${this.max.toLocaleString('en-US')} characters`, text: this.longStart(buf, pos) });
        this.skipping = true;
        continue;
      }
      const error = eof
        ? 'a quoted value is not closed before the end of the file (truncated file, or a stray " on this line)'
        : `a quoted value is not closed within ${this.max.toLocaleString('en-US')} characters (a stray " on this line?)`;
      out.push({ line: this.line, error, text: clip(buf.slice(pos, lineEnd(buf, pos))) });
      this.line++;
      pos = nl < 0 ? buf.length : nl + 1;
    }
    this.buf = buf.slice(pos);
  }
}

function clip(s: string): string {
  return s.length > RAW_TEXT_CHARS ? `${s.slice(0, RAW_TEXT_CHARS)}…` : s;
}

function lineEnd(buf: string, pos: number): number {
  const nl = buf.indexOf('\n', pos);
  const end = nl < 0 ? buf.length : nl;
  return end > pos && buf.charCodeAt(end - 1) === CR ? end - 1 : end;
}

/**
 * Parse one record starting at `pos`. Complete only when its line ends inside `buf` (or at `eof`): a record cut at
 * the end of a chunk is re-parsed once more text has arrived.
 */
function parseRecord(buf: string, pos: number, delim: string, eof: boolean): Parsed {
  const fields: (string | null)[] = [];
  let newlines = 0;
  let i = pos;
  const d = delim.charCodeAt(0);
  for (;;) {
    if (buf.charCodeAt(i) === QUOTE) {
      let value = '';
      let from = i + 1;
      for (;;) {
        const q = buf.indexOf('"', from);
        if (q < 0) return { kind: 'incomplete', openQuote: true };
        if (buf.charCodeAt(q + 1) === QUOTE) {
          value += buf.slice(from, q + 1);
          from = q + 2;
          continue;
        }
        if (q + 1 === buf.length && !eof) return { kind: 'incomplete', openQuote: false };
        value += buf.slice(from, q);
        i = q + 1;
        break;
      }
      for (let k = value.indexOf('\n'); k >= 0; k = value.indexOf('\n', k + 1)) newlines++;
      fields.push(value);
      const c = buf.charCodeAt(i);
      if (c === d) { i++; continue; }
      if (i >= buf.length) return eof ? { kind: 'record', end: i, fields, newlines } : { kind: 'incomplete', openQuote: false };
      if (c === NL) return { kind: 'record', end: i + 1, fields, newlines };
      if (c === CR && buf.charCodeAt(i + 1) === NL) return { kind: 'record', end: i + 2, fields, newlines };
      if (c === CR && i + 1 === buf.length) return eof ? { kind: 'record', end: i + 1, fields, newlines } : { kind: 'incomplete', openQuote: false };
      // Text after a closing quote: the line is malformed. Blame its first line and read the next line afresh.
      if (buf.indexOf('\n', i) < 0 && !eof) return { kind: 'incomplete', openQuote: false };
      const nl = buf.indexOf('\n', pos);
      const error = newlines > 0
        ? 'a quoted value opened on this line is not closed properly (a stray " on this line?)'
        : `unexpected text after a closing quote in field ${fields.length} (quote the whole value and double any " inside it)`;
      return { kind: 'error', end: nl < 0 ? buf.length : nl + 1, error };
    }
    const nl = buf.indexOf('\n', i);
    const dl = buf.indexOf(delim, i);
    if (dl >= 0 && (nl < 0 || dl < nl)) {
      fields.push(dl === i ? null : buf.slice(i, dl));
      i = dl + 1;
      continue;
    }
    if (nl < 0 && !eof) return { kind: 'incomplete', openQuote: false };
    let end = nl < 0 ? buf.length : nl;
    if (end > i && buf.charCodeAt(end - 1) === CR) end--;
    fields.push(end === i ? null : buf.slice(i, end));
    return { kind: 'record', end: nl < 0 ? buf.length : nl + 1, fields, newlines };
  }
}

/** Pick the delimiter from the first line: `,` unless tab, `;` or `|` splits it into more fields. */
export function sniffDelimiter(buf: string, pos: number): string {
  const nl = buf.indexOf('\n', pos);
  const first = buf.slice(pos, nl < 0 ? buf.length : nl).replace(/"[^"]*"/g, '');
  let best = ',';
  let most = first.split(',').length - 1;
  for (const d of ['\t', ';', '|']) {
    const n = first.split(d).length - 1;
    if (n > most) {
      best = d;
      most = n;
    }
  }
  return best;
}
