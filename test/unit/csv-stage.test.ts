import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NULL_MARKER as M, stageCsvCopy } from '../../shared/features/csv-stage.js';

/** The staged copy a BigQuery load job reads (csv-stage.ts): numbered records, null markers, the same bytes otherwise. */
describe('CSV staged copy for a BigQuery load', () => {
  let dir: string;
  beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'ctloop-stage-')); });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  const stage = async (body: string, columns: number, chunkBytes?: number, delimiter = ',') => {
    const src = join(dir, 'in.csv');
    const out = join(dir, 'out.csv');
    await writeFile(src, body);
    const res = await stageCsvCopy(src, false, delimiter, columns, out, chunkBytes);
    return 'rows' in res ? { rows: res.rows, text: await readFile(out, 'utf8') } : res;
  };

  it('numbers records (0-based) with the line each starts on, drops the header, marks empty unquoted values, keeps quoted ones', async () => {
    expect(await stage('a,b,c\n,x,\n"",,"q\nr"\r\n1,2,3', 3)).toEqual({
      rows: 3,
      text: `0,2,${M},x,${M}\n1,3,"",${M},"q\nr"\n2,5,1,2,3\n`,
    });
    expect(await stage('\ufeffa\tb\nx\t"y ""z"""\n', 2, undefined, '\t')).toEqual({ rows: 1, text: '0\t2\tx\t"y ""z"""\n' });
    expect(await stage('a,b\n', 2)).toEqual({ rows: 0, text: '' });
  });

  it('gives the same copy whatever the read chunks (a record, a quote, a CRLF or the BOM split between chunks)', async () => {
    const body = '\ufeffh1,h2,h3\r\n"a ""b""",,c\r\n"x\ny",é€,\r\n,,\n"q","",z';
    const whole = await stage(body, 3);
    expect(whole).toMatchObject({ rows: 4 });
    for (let size = 1; size <= 9; size++) expect(await stage(body, 3, size)).toEqual(whole);
  });

  it('refuses what BigQuery would read otherwise than the row-by-row reader, naming the line', async () => {
    const h = 'a,b\n';
    expect(await stage(`${h}1,2\n3\n`, 2)).toEqual({ fallback: 'line 3 has 1 fields where the header has 2' });
    expect(await stage(`${h}1,2\n\n3,4\n`, 2)).toEqual({ fallback: 'line 3 is blank' });
    expect(await stage(`${h}1, "2"\n`, 2)).toEqual({ fallback: 'line 2 has a quote inside an unquoted value' });
    expect(await stage(`${h}1,"2" \n`, 2)).toEqual({ fallback: 'line 2 has a quote that does not close its field' });
    expect(await stage(`${h}1,2\r3,4\n`, 2)).toEqual({ fallback: 'line 2 has a carriage return that does not end it' });
    expect(await stage(`${h}1,"2\n`, 2)).toEqual({ fallback: 'line 2 opens a quote that is never closed' });
    expect(await stage(`${h}1,x${M}\n`, 2)).toEqual({ fallback: 'a value holds U+FFFF, the null marker of the BigQuery load' });
    const src = join(dir, 'latin1.csv');
    await writeFile(src, Buffer.from('a,b\n1,caf\xe9\n', 'latin1'));
    expect(await stageCsvCopy(src, false, ',', 2, join(dir, 'o.csv'))).toEqual({ fallback: 'the file is not UTF-8' });
  });
});
