import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { scanCsv } from '../../shared/features/csv-scan.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function scan(text: string, gz = false) {
  const d = await mkdtemp(join(tmpdir(), 'ctloop-scan-'));
  dirs.push(d);
  const p = join(d, gz ? 'f.csv.gz' : 'f.csv');
  await writeFile(p, gz ? gzipSync(text) : text);
  return scanCsv(p, ',', gz);
}

describe('scanCsv', () => {
  it('counts lines and tells whether the file holds a quote (values span lines only inside quotes)', async () => {
    expect(await scan('a,b\n1,2\n3,4\n')).toEqual({ lines: 3, quotesAgree: true, quoted: false });
    expect(await scan('a,b\n1,2\n3,4')).toEqual({ lines: 3, quotesAgree: true, quoted: false });
    expect(await scan('a,b\n1,"x\ny"\n', true)).toEqual({ lines: 3, quotesAgree: true, quoted: true });
    expect(await scan('a,b\n1, "x"\n')).toEqual({ lines: 2, quotesAgree: false, quoted: true });
  });
});
