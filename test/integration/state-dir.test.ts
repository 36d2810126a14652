import { execFile, execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadConfig } from '../../shared/config/config.js';
import { ConfigError, NotFoundError } from '../../shared/errors.js';
import { applyFeatureRepo } from '../../shared/features/apply.js';
import { getOnlineFeatures } from '../../shared/features/online.js';
import { createRuntime } from '../../shared/runtime/runtime.js';
import { listDeadLetters } from '../../shared/runtime/dead-letters.js';
import { testRepoInput } from '../helpers/feature-fixtures.js';

const run = promisify(execFile);
const bin = new URL('../../bin/ctloop.mjs', import.meta.url).pathname;

/** CTLOOP_STATE_DIR that cannot be used gives a ConfigError naming it; commands that only read need no write access. */
describe('state directory (CTLOOP_STATE_DIR)', () => {
  let dir: string;
  const env = (stateDir: string) => ({ CTLOOP_MODE: 'embedded', CTLOOP_STATE_DIR: stateDir, CTLOOP_FEATURES: join(dir, 'features.yaml') });
  const runtimeError = async (stateDir: string, readOnly: boolean) =>
    createRuntime(loadConfig(env(stateDir), dir), {}, { readOnly }).then(async (rt) => {
      await rt.close();
      throw new Error(`expected ${stateDir} to be refused`);
    }, (err: unknown) => err);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-statedir-'));
    await chmod(dir, 0o755); // readable by the unprivileged user of the read-only test below
    // …who must also get through the test run's private temp root (created 0700 by test/global-setup.ts).
    await chmod(dirname(dir), 0o711);
    await writeFile(join(dir, 'features.yaml'), stringify(testRepoInput));
    await writeFile(join(dir, 'a-file'), 'not a directory');
  });
  afterAll(async () => {
    // Give write access back (a non-root user cannot remove entries of a read-only folder), then clean up.
    const ro = join(dir, 'ro');
    await chmod(ro, 0o755).catch(() => undefined);
    for (const e of await readdir(ro, { recursive: true }).catch(() => [])) await chmod(join(ro, e), 0o755).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  const expectStateDirError = (err: unknown, what: RegExp) => {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.message).toMatch(/CTLOOP_STATE_DIR/);
    expect(e.message).toMatch(what);
    expect(e.hint).toMatch(/CTLOOP_STATE_DIR/);
    expect(e.hint).not.toMatch(/ctloop bug/);
    expect(e.details).toMatchObject({ variable: 'CTLOOP_STATE_DIR' });
  };

  it('refuses a state directory that is a file (was a raw EEXIST), for writers and readers', async () => {
    for (const readOnly of [false, true]) expectStateDirError(await runtimeError(join(dir, 'a-file'), readOnly), /is a file, not a directory/);
  });

  it('refuses a state directory under a file (was a raw ENOTDIR), naming the file', async () => {
    for (const readOnly of [false, true]) {
      const err = await runtimeError(join(dir, 'a-file', 'state'), readOnly);
      expectStateDirError(err, /lies under .*a-file, which is a file/);
    }
  });

  it('refuses a state directory whose DuckDB file, object folder or bus folder has the wrong kind', async () => {
    const cases: [string, 'dir' | 'file', RegExp][] = [
      ['warehouse.duckdb', 'dir', /holds warehouse\.duckdb as a directory/],
      ['objects', 'file', /holds objects as a file/],
      ['bus', 'file', /holds bus as a file/],
      ['bus/dead-letters.jsonl', 'dir', /holds dead-letters\.jsonl as a directory/],
    ];
    for (const [entry, kind, message] of cases) {
      const state = join(dir, `wrong-${entry.replace('/', '-')}`);
      await mkdir(state, { recursive: true });
      if (kind === 'dir') await mkdir(join(state, entry), { recursive: true });
      else await writeFile(join(state, entry), 'x');
      for (const readOnly of [false, true]) expectStateDirError(await runtimeError(state, readOnly), message);
    }
  });

  it('opens a missing state directory read-only without creating it: "nothing stored yet", no dead letters', async () => {
    const state = join(dir, 'never-used');
    const rt = await createRuntime(loadConfig(env(state), dir), {}, { readOnly: true });
    try {
      expect(await listDeadLetters({ objectStore: rt.objectStore, bucket: rt.config.artifactBucket, journalDir: join(state, 'bus') })).toEqual([]);
      const err = await getOnlineFeatures(rt, { view: 'route_stats', entities: [{ origin: 'SFO', dest: 'LAX' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect((err as NotFoundError).message).toMatch(/nothing has been stored yet: there is no online store at .*never-used.online/);
      expect((err as NotFoundError).hint).toMatch(/ctloop features apply/);
    } finally {
      await rt.close();
    }
    await expect(stat(state)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('does not answer "no dead letters" when the journal cannot be read', async () => {
    const journalDir = join(dir, 'unreadable-journal');
    await mkdir(join(journalDir, 'dead-letters.jsonl'), { recursive: true }); // EISDIR on read, whoever runs the test
    const rt = await createRuntime(loadConfig(env(join(dir, 'never-used-2')), dir), {}, { readOnly: true });
    try {
      const err = await listDeadLetters({ objectStore: rt.objectStore, bucket: rt.config.artifactBucket, journalDir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(/cannot read the dead-letter journal .*dead-letters\.jsonl \(EISDIR\)/);
    } finally {
      await rt.close();
    }
  });

  it('opens an existing warehouse read-only: reads work, writes are refused by DuckDB', async () => {
    const state = join(dir, 'ro-open');
    const writer = await createRuntime(loadConfig(env(state), dir));
    await applyFeatureRepo(writer.warehouse, writer.repo);
    await writer.close();
    const rt = await createRuntime(loadConfig(env(state), dir), {}, { readOnly: true });
    try {
      const res = await getOnlineFeatures(rt, { view: 'route_stats', entities: [{ origin: 'SFO', dest: 'LAX' }] });
      expect(res.results[0]!.statuses).toEqual(['NOT_FOUND']);
      await expect(rt.warehouse.execute('CREATE TABLE t (a INTEGER)')).rejects.toThrow(/opened read-only/);
    } finally {
      await rt.close();
    }
  });

  it('serves read-only commands from a read-only state directory and refuses writers with a fix', async (ctx) => {
    const state = join(dir, 'ro');
    // The CLI's own temporary files (e.g. a staged spine) go where the unprivileged user may write.
    const tmp = join(dir, 'tmp');
    await mkdir(tmp);
    await chmod(tmp, 0o777);
    const base = { ...process.env, ...env(state), METADATA_SERVER_DETECTION: 'none', TMPDIR: tmp };
    const ctloop = async (args: string[], asUser?: string[]) => {
      const [cmd, argv] = asUser ? [asUser[0]!, [...asUser.slice(1), process.execPath, bin, ...args]] : [process.execPath, [bin, ...args]];
      return run(cmd, argv, { env: base, cwd: dir }).then((r) => ({ code: 0, ...r }), (e: { code: number; stdout: string; stderr: string }) => e);
    };
    expect((await ctloop(['features', 'apply'])).code).toBe(0);
    await writeFile(join(dir, 'rows.csv'), 'origin,dest,event_ts,avg_delay,flights,note\nSFO,LAX,2001-03-01T10:00:00Z,4.5,3,a\n');
    expect((await ctloop(['features', 'ingest', '--view', 'route_stats', '--file', join(dir, 'rows.csv')])).code).toBe(0);
    for (const e of await readdir(state, { recursive: true })) await chmod(join(state, e), (await stat(join(state, e))).isDirectory() ? 0o555 : 0o444);
    await chmod(state, 0o555);

    // chmod does not stop root (tests may run as root): then run the CLI as an unprivileged user, or skip.
    let asUser: string[] | undefined;
    const probe = join(state, 'probe');
    const writable = await writeFile(probe, '').then(() => true, () => false);
    if (writable) {
      await rm(probe);
      const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
      try {
        // The unprivileged user must be able to run the CLI from this checkout at all.
        execFileSync(nobody[0]!, [...nobody.slice(1), process.execPath, bin, '--help'], { stdio: 'ignore', env: base, cwd: dir });
        asUser = nobody;
      } catch {
        console.log('skipped: chmod does not make the state directory read-only for this user (root), and the CLI cannot be run as an unprivileged user here (setpriv missing or the checkout unreadable)');
        ctx.skip();
      }
    }

    const online = await ctloop(['features', 'online', '--view', 'route_stats', '--key', 'origin=SFO', '--key', 'dest=LAX', '--as-of', '2001-03-01T12:00:00Z', '--format', 'json'], asUser);
    expect(online.stderr).toBe('');
    expect(JSON.parse(online.stdout).results[0]).toEqual({ values: [4.5], statuses: ['PRESENT'], event_timestamps: ['2001-03-01T10:00:00.000Z'] });
    const outDir = join(dir, 'out');
    await mkdir(outDir);
    await chmod(outDir, 0o777); // the training set is written outside the state directory
    await writeFile(join(dir, 'spine.csv'), 'origin,dest,ts\nSFO,LAX,2001-03-01T12:00:00Z\n');
    const hist = await ctloop(['features', 'historical', '--spine', join(dir, 'spine.csv'), '--timestamp-column', 'ts', '--features', 'route_stats:avg_delay', '--out', join(outDir, 'train.csv'), '--format', 'json'], asUser);
    expect(hist.stderr).toBe('');
    expect(JSON.parse(hist.stdout)).toMatchObject({ rows: 1, columns: ['origin', 'dest', 'ts', 'avg_delay'] });
    const dead = await ctloop(['dead-letters', 'list', '--format', 'json'], asUser);
    expect(dead.code).toBe(0);
    expect(JSON.parse(dead.stdout)).toEqual([]);

    const apply = await ctloop(['features', 'apply', '--format', 'json'], asUser);
    expect(apply.code).toBe(1);
    const err = JSON.parse(apply.stderr) as { error: string; message: string; hint: string };
    expect(err).toMatchObject({ error: 'CONFIG_INVALID', message: expect.stringMatching(/CTLOOP_STATE_DIR\) is not writable/) });
    expect(err.hint).toMatch(/features online/);
    expect(err.hint).not.toMatch(/ctloop bug/);
  });
});
