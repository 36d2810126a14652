import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { testRepoInput } from '../helpers/feature-fixtures.js';

const run = promisify(execFile);
const bin = new URL('../../bin/ctloop.mjs', import.meta.url).pathname;

/** The `ctloop features` commands as a user runs them: a real process, real files, exit codes and output. */
describe('ctloop features CLI', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const ctloop = async (...args: string[]) => {
    try {
      const r = await run(process.execPath, [bin, ...args], { env, cwd: dir });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, stdout: err.stdout, stderr: err.stderr };
    }
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-cli-'));
    await writeFile(join(dir, 'features.yaml'), stringify(testRepoInput));
    env = { ...process.env, CTLOOP_MODE: 'embedded', CTLOOP_STATE_DIR: join(dir, 'state'), CTLOOP_FEATURES: join(dir, 'features.yaml') };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('applies, ingests with quarantine, builds a training set and reads online values', async () => {
    const apply = await ctloop('features', 'apply', '--format', 'json');
    expect(apply.code).toBe(0);
    expect(JSON.parse(apply.stdout).changes.map((c: { action: string }) => c.action)).toContain('create');

    const rows = join(dir, 'rows.csv');
    await writeFile(rows, ['origin,dest,event_ts,avg_delay,flights,note', 'SFO,LAX,2001-03-01T10:00:00Z,4.5,3,a', 'SFO,LAX,2001-03-01T12:00:00Z,6.5,4,', 'SFO,JFK,not-a-time,1,1,', '"A,B",C,2001-03-01T00:00:00Z,,,'].join('\n'));
    const ingest = await ctloop('features', 'ingest', '--view', 'route_stats', '--file', rows, '--format', 'json');
    expect(ingest.code).toBe(0);
    expect(JSON.parse(ingest.stdout)).toMatchObject({ received: 4, accepted: 3, inserted: 3, quarantined: 1 });
    const again = await ctloop('features', 'ingest', '--view', 'route_stats', '--file', rows);
    expect(again.stdout).toMatch(/4 rows read, 3 accepted \(0 new\), 1 quarantined/);
    expect(again.stdout).toMatch(/quarantined line 4: event_ts: expected an ISO-8601 timestamp, got "not-a-time"/);

    const spine = join(dir, 'spine.csv');
    await writeFile(spine, ['origin,dest,ts,label', 'SFO,LAX,2001-03-01T11:00:00Z,1', 'SFO,LAX,2001-03-01T13:00:00Z,0', '"A,B",C,2001-03-01T01:00:00Z,1'].join('\n'));
    const out = join(dir, 'train.csv');
    const hist = await ctloop('features', 'historical', '--spine', spine, '--timestamp-column', 'ts', '--features', 'route_stats:avg_delay,route_stats:flights', '--out', out);
    expect(hist.code).toBe(0);
    expect((await readFile(out, 'utf8')).trim().split('\n')).toEqual([
      'origin,dest,ts,label,avg_delay,flights',
      'SFO,LAX,2001-03-01 11:00:00,1,4.5,3',
      'SFO,LAX,2001-03-01 13:00:00,0,6.5,4',
      '"A,B",C,2001-03-01 01:00:00,1,,',
    ]);

    const online = await ctloop('features', 'online', '--view', 'route_stats', '--key', 'origin=SFO', '--key', 'dest=LAX', '--as-of', '2001-03-01T20:00:00Z', '--format', 'json');
    expect(JSON.parse(online.stdout).results[0]).toEqual({ values: [6.5], statuses: ['PRESENT'], event_timestamps: ['2001-03-01T12:00:00.000Z'] });

    // What was quarantined, read back: the file, the row, the reason and the row as it arrived.
    const quarantine = await ctloop('features', 'quarantine', '--view', 'route_stats', '--format', 'json');
    expect(quarantine.code).toBe(0);
    expect(JSON.parse(quarantine.stdout)).toMatchObject({
      total: 1,
      rows: [{ view: 'route_stats', source: 'file', sourceId: rows, row: 2, line: 4, reasons: ['event_ts: expected an ISO-8601 timestamp, got "not-a-time"'], raw: { origin: 'SFO', dest: 'JFK', event_ts: 'not-a-time' } }],
    });
    const text = await ctloop('features', 'quarantine');
    expect(text.stdout).toMatch(/^\S+Z {2}route_stats {2}file .*rows\.csv \(version [0-9a-f]+\) line 4\n {2}reason: event_ts: expected an ISO-8601 timestamp, got "not-a-time"\n {2}raw: {4}\{"origin":"SFO"/);
    expect((await ctloop('features', 'quarantine', '--view', 'driver_stats')).stdout).toBe('no quarantined rows\n');
    expect((await ctloop('features', 'quarantine', '--since', '2999-01-01T00:00:00Z', '--format', 'json')).stdout).toMatch(/"total": 0/);
    const typo = await ctloop('features', 'quarantine', '--view', 'route_stat');
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(/feature view "route_stat" is not defined/);
  });

  it('refuses --key pairs that cannot name one entity of the view (exit 2)', async () => {
    const online = (...keys: string[]) => ctloop('features', 'online', '--view', 'route_stats', ...keys.flatMap((k) => ['--key', k]), '--format', 'json');
    const cases: [string[], RegExp][] = [
      [['origin=SFO', 'dest=LAX', 'region=x'], /view route_stats has no join key "region"/],
      [['origin=SFO', 'origin=LAX', 'dest=LAX'], /--key origin is given twice \(SFO and LAX\)/],
      [['origin=', 'dest=LAX'], /--key origin has an empty value/],
      [['origin=SFO'], /missing --key for dest of view route_stats/],
      [['SFO', 'dest=LAX'], /--key SFO is not name=value/],
    ];
    for (const [keys, reason] of cases) {
      const r = await online(...keys);
      expect(r).toMatchObject({ code: 2, stdout: '' });
      const err = JSON.parse(r.stderr);
      expect(err).toMatchObject({ error: 'USAGE', hint: expect.stringMatching(/--key origin=… --key dest=…/) });
      expect(err.message).toMatch(reason);
    }
  });

  it('fails with a clear message and exit 1 on bad input, exit 2 on usage errors', async () => {
    const unknown = await ctloop('features', 'online', '--view', 'nope', '--key', 'a=b');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: feature view "nope" is not defined\n  fix: defined views: route_stats, driver_stats/);
    expect(unknown.stderr).not.toMatch(/at .*\.ts:\d+/);
    const missing = await ctloop('features', 'ingest', '--view', 'route_stats', '--file', join(dir, 'missing.csv'), '--format', 'json');
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr)).toMatchObject({ error: 'NOT_FOUND', message: expect.stringMatching(/file not found/) });
    const oddSpine = join(dir, 'odd.csv');
    await writeFile(oddSpine, ['origin,dest,ts,label x', 'SFO,LAX,2001-03-01T11:00:00Z,1'].join('\n'));
    const odd = await ctloop('features', 'historical', '--spine', oddSpine, '--timestamp-column', 'ts', '--features', 'route_stats:avg_delay', '--out', join(dir, 'odd-out.csv'));
    expect(odd.code).toBe(1);
    expect(odd.stderr).toMatch(/spine column "label x" is not a valid column name/);
    // A ragged spine line: ctloop's words, the exact line, no DuckDB sniffer dump.
    const ragged = join(dir, 'ragged-spine.csv');
    await writeFile(ragged, ['origin,dest,ts,label', ...Array.from({ length: 3000 }, (_, i) => `SFO,LAX,2001-03-01T11:00:00Z,${i}${i === 2500 ? ',x,y' : ''}`)].join('\n'));
    const raggedOut = await ctloop('features', 'historical', '--spine', ragged, '--timestamp-column', 'ts', '--features', 'route_stats:avg_delay', '--out', join(dir, 'ragged-out.csv'));
    expect(raggedOut.code).toBe(1);
    expect(raggedOut.stderr).toMatch(/^error: cannot read spine .*ragged-spine\.csv: line 2502: ragged row: 6 fields where the header has 4\n  fix: fix or remove that line/m);
    expect(raggedOut.stderr).not.toMatch(/sniff|Possible fixes|strict_mode|Auto-Detected/);
    // A header that misses a join key: refused whole, before any row, naming the closest header.
    const misnamed = join(dir, 'misnamed.csv');
    await writeFile(misnamed, ['origin,destination,event_ts,avg_delay', ...Array.from({ length: 1000 }, (_, i) => `A,B,2001-03-01T00:00:0${i % 10}Z,${i}`)].join('\n'));
    const refused = await ctloop('features', 'ingest', '--view', 'route_stats', '--file', misnamed, '--format', 'json');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr)).toMatchObject({
      error: 'VALIDATION_FAILED',
      message: expect.stringMatching(/misnamed\.csv: the header has no column "dest" \(the join key of view route_stats\); nothing was loaded$/),
      hint: expect.stringMatching(/^rename column "destination" to "dest"; expected columns: origin, dest, event_ts \(required\)/),
    });
    const usage = await ctloop('features', 'historical', '--spine', 'x.csv');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/required option '--features <list>' not specified/);
    const badEnv = await run(process.execPath, [bin, 'features', 'apply'], { env: { ...env, CTLOOP_MODE: 'cloudy' } })
      .then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
    expect(badEnv.code).toBe(1);
    expect(badEnv.stderr).toMatch(/CTLOOP_MODE="cloudy" is invalid/);
  });
});
