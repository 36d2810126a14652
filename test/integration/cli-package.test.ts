import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

const run = promisify(execFile);
const repo = new URL('../..', import.meta.url).pathname;

/**
 * What `npm pack` ships: compiled JavaScript and the bin, no sources, tests or fixtures; and it runs with the
 * package's runtime dependencies alone (no tsx, no TypeScript). Built into a temporary folder, so the checkout's own
 * dist/ is left alone.
 */
describe('the packaged CLI', () => {
  let dir: string;
  let pkg: string;
  let packed: string[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ctloop-pkg-'));
    pkg = join(dir, 'package');
    await run(process.execPath, [join(repo, 'bin/build.mjs'), '--out-dir', join(pkg, 'dist')], { cwd: repo });
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repo });
    packed = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of packed.filter((p) => !p.startsWith('dist/'))) {
      await mkdir(dirname(join(pkg, f)), { recursive: true });
      await copyFile(join(repo, f), join(pkg, f));
    }
    // Only the runtime dependencies, linked one by one: an import of a dev tool from dist/ cannot resolve.
    const { dependencies } = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const name of Object.keys(dependencies)) {
      await mkdir(dirname(join(pkg, 'node_modules', name)), { recursive: true });
      await symlink(join(repo, 'node_modules', name), join(pkg, 'node_modules', name));
    }
  }, 300_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('ships the bin, compiled code and the example definitions only', () => {
    expect(packed).toEqual(expect.arrayContaining(['package.json', 'bin/ctloop.mjs', 'bin/build-stamp.mjs', 'features.yaml', 'models.yaml', 'trainers/flight-delay/train.py', 'server/server.py']));
    // The reference trainer's program (the local runs' command in models.yaml) and the model server program (local
    // serving), not their image builds (Dockerfiles).
    for (const p of packed) expect(p).toMatch(/^(README\.md|LICENSE|package\.json|features\.yaml|models\.yaml|trainers\/flight-delay\/train\.py|server\/server\.py|bin\/(ctloop|build|build-stamp)\.mjs|dist\/(cli|shared|functions|examples|emulators)\/.+\.js)$/);
  });

  it('the packaged models.yaml loads beside the packaged features.yaml, and its trainer program is in the package', async () => {
    const { parse } = await import('yaml');
    const models = (parse(await readFile(join(pkg, 'models.yaml'), 'utf8')) as { models: { name: string; trainer: { command: string[] } }[] }).models;
    expect(models.map((m) => m.name)).toContain('flight_delay');
    // Local runs start the command in the directory of models.yaml: its relative paths must be packaged files.
    for (const m of models) {
      for (const part of m.trainer.command.filter((c) => !c.startsWith('/') && /\.(py|sh|mjs|js)$/.test(c))) expect(packed, `${m.name}: ${part}`).toContain(part);
    }
    const env = { ...process.env, CTLOOP_MODE: 'embedded', CTLOOP_STATE_DIR: join(dir, 'state-train'), CTLOOP_FEATURES: join(pkg, 'features.yaml'), CTLOOP_LOG: 'silent' };
    const bin = join(pkg, 'bin/ctloop.mjs');
    const r = await runCli(['train', '--model', 'no_such_model', '--format', 'json'], { bin, env, cwd: dir });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr)).toMatchObject({ error: 'NOT_FOUND', message: `model "no_such_model" is not defined in ${join(pkg, 'models.yaml')}`, hint: 'defined models: flight_delay' });
  });

  it('starts from dist/ with runtime dependencies only', async () => {
    const env = { ...process.env, CTLOOP_MODE: 'embedded', CTLOOP_STATE_DIR: join(dir, 'state'), CTLOOP_FEATURES: join(repo, 'features.yaml') };
    const bin = join(pkg, 'bin/ctloop.mjs');
    const help = await runCli(['--help'], { bin, env, cwd: dir });
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: ctloop \[options\] \[command\]/);
    const usage = await runCli(['features', 'ingest', '--view', 'v', '--file', 'f', '--batch-size', 'x', '--format', 'json'], { bin, env, cwd: dir });
    expect(usage).toMatchObject({ code: 2, stdout: '' });
    expect(JSON.parse(usage.stderr)).toMatchObject({ error: 'USAGE' });
    // A command that loads the runtime (DuckDB, the cloud clients, the feature definitions).
    const apply = await runCli(['features', 'apply', '--dry-run', '--format', 'json'], { bin, env, cwd: dir });
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(JSON.parse(apply.stdout)).toMatchObject({ applied: false });
  });
});

/** In a checkout the bin runs dist/ only while it was built from the sources as they are; else the sources. */
describe('the bin in a checkout', () => {
  let root: string;
  const say = (where: string) => `export async function main() { process.stdout.write('${where}\\n'); return 0; }\n`;
  const ctloop = async () => (await runCli([], { bin: join(root, 'bin/ctloop.mjs') })).stdout.trim();
  const stamp = () => run(process.execPath, ['--input-type=module', '-e', `
    import { snapshot, STAMP } from ${JSON.stringify(join(root, 'bin/build-stamp.mjs'))};
    import { writeFileSync } from 'node:fs';
    writeFileSync(${JSON.stringify(join(root, 'dist'))} + '/' + STAMP, JSON.stringify({ files: snapshot(${JSON.stringify(root)}) }));`]);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ctloop-checkout-'));
    for (const d of ['bin', 'cli', 'shared', 'dist/cli']) await mkdir(join(root, d), { recursive: true });
    for (const f of ['bin/ctloop.mjs', 'bin/build-stamp.mjs']) await copyFile(join(repo, f), join(root, f));
    await symlink(join(repo, 'node_modules'), join(root, 'node_modules'));
    await writeFile(join(root, 'tsconfig.json'), '{}\n');
    await writeFile(join(root, 'package.json'), '{ "type": "module" }\n');
    await writeFile(join(root, 'cli/main.ts'), say('from sources'));
    await writeFile(join(root, 'shared/a.ts'), 'export const a = 1;\n');
    await writeFile(join(root, 'dist/cli/main.js'), say('from dist'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('runs the sources without a build record, dist/ with a current one, the sources again after any change', async () => {
    expect(await ctloop()).toBe('from sources');
    await stamp();
    expect(await ctloop()).toBe('from dist');
    await appendFile(join(root, 'shared/a.ts'), '// edited\n');
    expect(await ctloop()).toBe('from sources');
    await stamp();
    expect(await ctloop()).toBe('from dist');
    await writeFile(join(root, 'shared/b.ts'), 'export const b = 1;\n');
    expect(await ctloop()).toBe('from sources');
    await stamp();
    await rm(join(root, 'shared/b.ts'));
    expect(await ctloop()).toBe('from sources');
    await stamp();
    await writeFile(join(root, 'tsconfig.json'), '{ "compilerOptions": {} }\n');
    expect(await ctloop()).toBe('from sources');
  });
});
