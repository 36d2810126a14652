import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/config.js';
import { ValidationError } from '../../shared/errors.js';
import { createObjectStore, LocalObjectStore } from '../../shared/adapters/object-store/index.js';
import { runObjectStoreContract } from './object-store.contract.js';

const roots: string[] = [];
async function freshRoot(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'ctloop-local-os-'));
  roots.push(root);
  return root;
}
afterAll(async () => {
  for (const r of roots) await rm(r, { recursive: true, force: true });
});

runObjectStoreContract('local directory', async () => ({
  store: createObjectStore({ kind: 'local', root: await freshRoot() }),
  bucket: 'ctloop-artifacts',
}));

describe('local object store specifics', () => {
  let root: string;
  let store: LocalObjectStore;
  beforeAll(async () => {
    root = await freshRoot();
    store = new LocalObjectStore(root);
  });

  it('is what createObjectStore builds from the embedded config', () => {
    const cfg = loadConfig({ CTLOOP_STATE_DIR: root }, '/');
    expect(cfg.objectStore).toEqual({ kind: 'local', root: join(root, 'objects') });
    const s = createObjectStore(cfg.objectStore);
    expect(s).toBeInstanceOf(LocalObjectStore);
    expect((s as LocalObjectStore).root).toBe(join(root, 'objects'));
  });

  it('stores gs://bucket/path as <root>/bucket/path, and localCopy is that very file', async () => {
    await store.put('gs://my-bucket/models/m1/model.bst', 'bytes');
    const file = join(root, 'my-bucket', 'models', 'm1', 'model.bst');
    expect(await readFile(file, 'utf8')).toBe('bytes');
    const copy = await store.localCopy('gs://my-bucket/models/m1/model.bst');
    expect(copy.path).toBe(file);
    await copy.release();
    expect(existsSync(file)).toBe(true);
  });

  it('keeps sidecars and temp files out of the bucket tree and out of listings', async () => {
    await store.put('gs://side-bucket/x/y.json', '{}', { contentType: 'application/json', metadata: { a: 'b' } });
    expect(await readdir(join(root, 'side-bucket', 'x'))).toEqual(['y.json']);
    expect((await store.list('gs://side-bucket/')).map((o) => o.uri)).toEqual(['gs://side-bucket/x/y.json']);
    expect(await readdir(join(root, '.ctloop-tmp'))).toEqual([]);
  });

  it('never writes outside the root, whatever the URI', async () => {
    const outside = join(root, '..', `escape-${process.pid}.txt`);
    for (const uri of [`gs://bucket/../../escape-${process.pid}.txt`, `gs://bucket/a/../../../escape-${process.pid}.txt`]) {
      await expect(store.put(uri, 'x')).rejects.toBeInstanceOf(ValidationError);
    }
    expect(existsSync(outside)).toBe(false);
  });

  it('reports a file/folder name clash (a vs a/b) as a ValidationError instead of an fs error', async () => {
    await store.put('gs://clash-bucket/a', 'file');
    const err = await store.put('gs://clash-bucket/a/b', 'nested').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).message).toContain('gs://clash-bucket/a');
    await store.put('gs://clash-bucket/d/e', 'nested');
    await expect(store.put('gs://clash-bucket/d', 'file')).rejects.toBeInstanceOf(ValidationError);
    await expect(store.put('gs://clash-bucket/d', 'file', { ifNotExists: true })).rejects.toBeInstanceOf(ValidationError);
    // once d/e is deleted its empty folder goes too, and d can be an object
    await store.delete('gs://clash-bucket/d/e');
    await store.put('gs://clash-bucket/d', 'file');
    expect((await store.get('gs://clash-bucket/d')).toString()).toBe('file');
  });

  it('treats a file placed by hand as an object with unknown content type', async () => {
    await store.put('gs://hand-bucket/seed', 'x');
    await writeFile(join(root, 'hand-bucket', 'manual.csv'), 'a,b\n');
    const s = await store.stat('gs://hand-bucket/manual.csv');
    expect(s?.size).toBe(4);
    expect(s?.contentType).toBeUndefined();
    expect(s?.metadata).toEqual({});
  });

  it('a replaced file does not inherit the previous metadata', async () => {
    await store.put('gs://hand-bucket/m', 'x', { metadata: { v: '1' } });
    await writeFile(join(root, 'hand-bucket', 'tmp-m'), 'y');
    const { rename } = await import('node:fs/promises');
    await rename(join(root, 'hand-bucket', 'tmp-m'), join(root, 'hand-bucket', 'm'));
    expect((await store.stat('gs://hand-bucket/m'))?.metadata).toEqual({});
  });
});
