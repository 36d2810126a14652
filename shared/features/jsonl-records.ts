import { BadRecord } from './bad-record.js';
import { MAX_RECORD_CHARS, RAW_TEXT_CHARS } from './csv-records.js';

/**
 * Streaming JSON Lines reader that accounts for every line: each non-blank line comes out with its line number, as
 * the parsed value or as a BadRecord (invalid JSON, or longer than `maxLineChars`, which is skipped to its end
 * without being held in memory). A last line without a newline is still a line.
 */
export interface JsonlRecord {
  line: number;
  value: unknown;
}

export class JsonlRecordParser {
  private buf = '';
  private line = 1;
  private skipping = false;

  constructor(private readonly maxLineChars = MAX_RECORD_CHARS) {}

  push(chunk: string): JsonlRecord[] {
    const out: JsonlRecord[] = [];
    this.buf += chunk;
    this.drain(out, false);
    return out;
  }

  end(): JsonlRecord[] {
    const out: JsonlRecord[] = [];
    this.drain(out, true);
    return out;
  }

  private drain(out: JsonlRecord[], eof: boolean): void {
    const buf = this.buf;
    let pos = this.line === 1 && buf.charCodeAt(0) === 0xfeff ? 1 : 0;
    while (pos < buf.length) {
      let nl = buf.indexOf('\n', pos);
      if (nl < 0 && !eof) {
        if (!this.skipping && buf.length - pos > this.maxLineChars) {
          out.push({ line: this.line, value: tooLong(buf.slice(pos, pos + RAW_TEXT_CHARS), this.maxLineChars) });
          this.skipping = true;
        }
        if (this.skipping) pos = buf.length;
        break;
      }
      if (nl < 0) nl = buf.length;
      if (this.skipping) {
        this.skipping = false;
      } else if (nl - pos > this.maxLineChars) {
        out.push({ line: this.line, value: tooLong(buf.slice(pos, pos + RAW_TEXT_CHARS), this.maxLineChars) });
      } else {
        const text = buf.slice(pos, nl);
        if (text.trim() !== '') out.push({ line: this.line, value: parse(text) });
      }
      this.line++;
      pos = nl + 1;
    }
    this.buf = pos >= buf.length ? '' : buf.slice(pos);
  }
}

function tooLong(start: string, max: number): BadRecord {
  return new BadRecord(`line is longer than ${max.toLocaleString('en-US')} characters`, `${start}…`);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const t = text.length > RAW_TEXT_CHARS ? `${text.slice(0, RAW_TEXT_CHARS)}…` : text;
    return new BadRecord(`not valid JSON (${(err as Error).message})`, t);
  }
}
