import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

/**
 * Usage errors as a user meets them: every bad command line exits 2 before doing any work, prints nothing on stdout,
 * says what is wrong on stderr — and under `--format json`, stderr is one JSON object (code USAGE) and nothing else.
 */
describe('ctloop usage errors', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-cli-usage-'));
    env = { ...process.env, CTLOOP_MODE: 'embedded', CTLOOP_STATE_DIR: join(dir, 'state'), CTLOOP_FEATURES: join(dir, 'none.yaml') };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const ingest = ['features', 'ingest', '--view', 'v', '--file', 'f.csv'];
  const cases: [string, string[], RegExp][] = [
    ['batch size that is not a number', [...ingest, '--batch-size', 'abc'], /--batch-size <n>' argument 'abc' is invalid\. Expected a whole number from 1 to 1000000, got "abc"/],
    ['batch size with trailing letters', [...ingest, '--batch-size', '12abc'], /--batch-size.*"12abc"/],
    ['batch size in exponent form', [...ingest, '--batch-size', '1e3'], /--batch-size.*"1e3"/],
    ['fractional batch size', [...ingest, '--batch-size', '1.5'], /--batch-size.*"1\.5"/],
    ['batch size of zero', [...ingest, '--batch-size', '0'], /--batch-size.*got 0\./],
    ['batch size over the range', [...ingest, '--batch-size', '1000001'], /--batch-size.*got 1000001\./],
    ['demo replay of too few departures', ['demo', '--flight-rows', '10'], /--flight-rows.*from 1000 to 3000000, got 10/],
    ['demo event larger than an event may be', ['demo', '--batch', '10001'], /--batch <n>.*from 1 to 10000, got 10001/],
    ['negative demo batch', ['demo', '--batch=-5'], /--batch <n>.*got -5/],
    ['run for no time', ['run', '--for', '0'], /--for <seconds>.*got 0/],
    ['run for longer than a timer holds', ['run', '--for', '2147484'], /--for <seconds>.*from 1 to 2147483/],
    ['run for words', ['run', '--for', 'ever'], /--for <seconds>.*"ever"/],
    ['quarantine limit of zero', ['features', 'quarantine', '--limit', '0'], /--limit <n>.*from 1 to 10000, got 0/],
    ['quarantine limit that is not a number', ['features', 'quarantine', '--limit', 'all'], /--limit <n>.*"all"/],
    ['quarantine since that is not a time', ['features', 'quarantine', '--since', 'yesterday'], /--since <time>.*Expected an ISO-8601 time.*"yesterday"/],
    ['online as-of in month 13', ['features', 'online', '--view', 'v', '--key', 'a=b', '--as-of', '2001-13-01T00:00:00Z'], /--as-of <time>.*"2001-13-01T00:00:00Z"/],
    ['unknown option', ['features', 'apply', '--dryrun'], /unknown option '--dryrun'/],
    ['unknown command', ['featurs'], /unknown command 'featurs'/],
    ['unknown subcommand', ['features', 'injest'], /unknown command 'injest'/],
    ['missing required option', ['features', 'online', '--view', 'v'], /required option '--key <name=value>' not specified/],
    ['excess argument', ['features', 'apply', 'now'], /too many arguments/],
    ['group without a command', ['features'], /features needs a command: apply, ingest, historical, online, materialize, quarantine|Usage: ctloop features/],
  ];

  it.each(cases)('%s: exit 2, nothing on stdout, the reason on stderr (text and JSON)', async (_name, args, reason) => {
    const [text, json] = await Promise.all([runCli(args, { env, cwd: dir }), runCli([...args, '--format', 'json'], { env, cwd: dir })]);
    expect(text).toMatchObject({ code: 2, stdout: '' });
    expect(text.stderr).toMatch(reason);
    expect(text.stderr).not.toMatch(/at .*\.(ts|js):\d+/);
    expect(json).toMatchObject({ code: 2, stdout: '' });
    const lines = json.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    const err = JSON.parse(lines[0]!);
    expect(err).toMatchObject({ error: 'USAGE', kind: 'permanent', hint: expect.stringMatching(/^run `ctloop.* --help` for usage$/) });
    expect(err.message).toMatch(reason);
  });

  it('rejects a bad --format as a usage error', async () => {
    const r = await runCli(['--format', 'xml', 'features', 'apply'], { env, cwd: dir });
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/--format <format>' argument 'xml' is invalid\. Allowed choices are text, json/);
  });

  it('prints help on stdout with exit 0, loading the group a help request names', async () => {
    const root = await runCli(['--help'], { env, cwd: dir });
    expect(root.code).toBe(0);
    expect(root.stdout).toMatch(/Commands:\n\s+dead-letters\s+messages the loop gave up on/);
    expect(root.stdout).toMatch(/Exit status: 0 done, 1 the command failed .*, 2 usage error/);
    for (const args of [['help', 'features'], ['features', '--help'], ['--format', 'json', 'features', 'help']]) {
      const r = await runCli(args, { env, cwd: dir });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/quarantine \[options\]\s+rows that failed validation/);
    }
  });
});
