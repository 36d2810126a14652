import { describe, expect, it } from 'vitest';
import { CsvRecordParser, type CsvRecord } from '../../shared/features/csv-records.js';
import { JsonlRecordParser } from '../../shared/features/jsonl-records.js';

/** Parse `text` fed in chunks of `size` characters (splitting quotes, CRLFs and multi-line values anywhere). */
function csv(text: string, size = text.length, max?: number): CsvRecord[] {
  const p = new CsvRecordParser(max === undefined ? {} : { maxRecordChars: max });
  const out: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...p.push(text.slice(i, i + size)));
  return [...out, ...p.end()];
}

describe('CSV record parser', () => {
  const cases: Record<string, [string, CsvRecord[]]> = {
    'quotes, CRLF, multi-line values, blank lines, null vs empty': [
      'a,b,c\r\n1,,""\r\n"q""uote","multi\nline",3\n\n4,5,6',
      [
        { line: 1, fields: ['a', 'b', 'c'] },
        { line: 2, fields: ['1', null, ''] },
        { line: 3, fields: ['q"uote', 'multi\nline', '3'] },
        { line: 6, fields: ['4', '5', '6'] },
      ],
    ],
    'ragged rows are errors for their own line only': [
      'a,b\n1,2\n1,2,3,4\n5\n6,7\n',
      [
        { line: 1, fields: ['a', 'b'] },
        { line: 2, fields: ['1', '2'] },
        { line: 3, error: 'ragged row: 4 fields where the header has 2', text: '1,2,3,4' },
        { line: 4, error: 'ragged row: 1 fields where the header has 2', text: '5' },
        { line: 5, fields: ['6', '7'] },
      ],
    ],
    'a stray quote costs its line, not the rest of the file': [
      'a,b\n1,"2\n3,4\n5,6\n',
      [
        { line: 1, fields: ['a', 'b'] },
        { line: 2, error: 'a quoted value is not closed before the end of the file (truncated file, or a stray " on this line)', text: '1,"2' },
        { line: 3, fields: ['3', '4'] },
        { line: 4, fields: ['5', '6'] },
      ],
    ],
    'a quote closed on a later line, then ragged, blames the opening line': [
      'a,b\n1,"2\n3",4,5\n6,7\n',
      [
        { line: 1, fields: ['a', 'b'] },
        { line: 2, error: 'ragged row: 4 fields where the header has 2 (a quote opened on this line is closed only on a later line)', text: '1,"2' },
        { line: 3, error: 'ragged row: 3 fields where the header has 2', text: '3",4,5' },
        { line: 4, fields: ['6', '7'] },
      ],
    ],
    'a file cut inside a quoted value': [
      'a,b\n1,2\n3,"ab',
      [
        { line: 1, fields: ['a', 'b'] },
        { line: 2, fields: ['1', '2'] },
        { line: 3, error: 'a quoted value is not closed before the end of the file (truncated file, or a stray " on this line)', text: '3,"ab' },
      ],
    ],
    'a byte order mark and a semicolon delimiter': ['\ufeffa;b\n1;2', [{ line: 1, fields: ['a', 'b'] }, { line: 2, fields: ['1', '2'] }]],
    'text after a closing quote': [
      'a,b\n"1"x,2\n3,4',
      [
        { line: 1, fields: ['a', 'b'] },
        { line: 2, error: 'unexpected text after a closing quote in field 1 (quote the whole value and double any " inside it)', text: '"1"x,2' },
        { line: 3, fields: ['3', '4'] },
      ],
    ],
  };
  for (const [name, [text, want]] of Object.entries(cases)) {
    it(`${name}, whatever the chunk boundaries`, () => {
      for (const size of [1, 2, 3, 5, 8, text.length]) expect(csv(text, size), `chunks of ${size}`).toEqual(want);
    });
  }

  it('reports an over-long line once and reads on after it, without holding it', () => {
    const text = `a,b\n1,2\n${'x'.repeat(100)},3\n4,5\n6,"${'y'.repeat(100)}\n7,8\n`;
    for (const size of [7, 1000]) {
      expect(csv(text, size, 50)).toEqual([
        { line: 1, fields: ['a', 'b'] },
        { line: 2, fields: ['1', '2'] },
        { line: 3, error: 'line is longer than 50 characters', text: `${'x'.repeat(50)}…` },
        { line: 4, fields: ['4', '5'] },
        { line: 5, error: 'line is longer than 50 characters', text: `6,"${'y'.repeat(47)}…` },
        { line: 6, fields: ['7', '8'] },
      ]);
    }
  });
});

describe('CSV record parser on generated text', () => {
  // A fixed-seed generator (mulberry32): the same 500 texts on every run.
  let seed = 7;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pieces = ['a', 'bc', ',', ',', '"', '\n', '\n', '\r\n', '""'];
  const texts = Array.from({ length: 500 }, () => Array.from({ length: Math.floor(rand() * 40) }, () => pieces[Math.floor(rand() * pieces.length)]).join(''));

  it('gives the same records whatever the chunk boundaries', () => {
    for (const text of texts) {
      const whole = csv(text);
      for (const size of [1, 2, 7]) expect(csv(text, size), JSON.stringify(text)).toEqual(whole);
    }
  });

  it('accounts for every non-blank line exactly once when no quote makes a record span lines', () => {
    for (const text of texts.map((t) => t.replace(/"/g, ''))) {
      const lines = text.split('\n').map((l, i) => [i + 1, l.replace(/\r$/, '')] as const).filter(([, l]) => l !== '').map(([n]) => n);
      expect(csv(text, 3).map((r) => r.line), JSON.stringify(text)).toEqual(lines);
    }
  });
});

describe('JSON Lines record parser', () => {
  it('numbers every line, parses or rejects each, skips blank ones, keeps a last line without newline', () => {
    const text = `{"a":1}\n\n{"a":\n${'x'.repeat(60)}\n[1]\n{"a":2}`;
    for (const size of [1, 4, text.length]) {
      const p = new JsonlRecordParser(50);
      const out = [];
      for (let i = 0; i < text.length; i += size) out.push(...p.push(text.slice(i, i + size)));
      out.push(...p.end());
      expect(out.map((r) => [r.line, r.value && typeof r.value === 'object' && 'reason' in r.value ? (r.value as { reason: string }).reason.replace(/ \(.*/, '') : r.value])).toEqual([
        [1, { a: 1 }], [3, 'not valid JSON'], [4, 'line is longer than 50 characters'], [5, [1]], [6, { a: 2 }],
      ]);
    }
  });
});
