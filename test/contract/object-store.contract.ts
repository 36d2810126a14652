import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlreadyExistsError, CtloopError, isPermanent, NotFoundError, ValidationError } from '../../shared/errors.js';
import type { ObjectStore } from '../../shared/ports/object-store.js';

/**
 * The one behaviour every ObjectStore adapter must have. Each adapter's test file calls
 * `runObjectStoreContract(label, make)`; `make` returns a ready store and a bucket it may write to.
 */
export interface ContractTarget {
  store: ObjectStore;
  bucket: string;
  /** Behaviours the backend under test cannot show, with the reason (printed, and the test is skipped). */
  unsupported?: { ifNotExists?: string };
  teardown?(): Promise<void>;
}

export interface ContractOptions {
  /** Skip the whole suite (backend absent), with the printed reason. */
  skipReason?: string | undefined;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function expectError<T extends CtloopError>(p: Promise<unknown>, cls: abstract new (...a: never[]) => T): Promise<T> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'expected the call to fail').toBeInstanceOf(cls);
  expect(isPermanent(err)).toBe(true);
  return err as T;
}

export function runObjectStoreContract(label: string, make: () => Promise<ContractTarget>, opts: ContractOptions = {}): void {
  if (opts.skipReason) console.warn(`[skip] object store contract (${label}): ${opts.skipReason}`);

  describe.skipIf(Boolean(opts.skipReason))(`ObjectStore contract: ${label}`, () => {
    let t: ContractTarget;
    let store: ObjectStore;
    let base: string; // gs://bucket/run-<id>/ — every test writes under its own sub-prefix
    let scratch: string; // local temp dir for upload/download files

    beforeAll(async () => {
      t = await make();
      store = t.store;
      base = `gs://${t.bucket}/run-${randomUUID().slice(0, 8)}`;
      scratch = await mkdtemp(join(tmpdir(), 'ctloop-os-contract-'));
    });
    afterAll(async () => {
      await rm(scratch, { recursive: true, force: true });
      await t?.teardown?.();
    });

    const u = (p: string) => `${base}/${p}`;

    describe('put / get / stat / exists', () => {
      it('round-trips a string body and reports what it wrote', async () => {
        const before = Date.now();
        const info = await store.put(u('put/hello.txt'), 'héllo wörld', { contentType: 'text/plain' });
        expect(info.uri).toBe(u('put/hello.txt'));
        expect(info.size).toBe(Buffer.byteLength('héllo wörld'));
        expect(info.contentType).toBe('text/plain');
        expect(Math.abs(info.updated.getTime() - before)).toBeLessThan(60_000);
        expect((await store.get(u('put/hello.txt'))).toString('utf8')).toBe('héllo wörld');
      });

      it('round-trips every byte value (binary bodies are not transcoded)', async () => {
        const body = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
        await store.put(u('put/bytes.bin'), body);
        const back = await store.get(u('put/bytes.bin'));
        expect(Buffer.compare(back, body)).toBe(0);
        expect((await store.stat(u('put/bytes.bin')))?.size).toBe(512);
      });

      it('round-trips an empty body', async () => {
        await store.put(u('put/empty'), Buffer.alloc(0));
        expect((await store.get(u('put/empty'))).length).toBe(0);
        expect((await store.stat(u('put/empty')))?.size).toBe(0);
      });

      it('round-trips a 6 MB body (resumable-sized) byte for byte', async () => {
        const body = randomBytes(6 * 1024 * 1024 + 7);
        const info = await store.put(u('put/large.bin'), body, { contentType: 'application/x-test' });
        expect(info.size).toBe(body.length);
        expect(sha(await store.get(u('put/large.bin')))).toBe(sha(body));
      });

      it('stat returns size, content type and custom metadata; stat of a missing object is null', async () => {
        const metadata = { 'model-version': 'v3', run: 'r-42', note: 'naïve ✓' };
        await store.put(u('stat/m.json'), '{"a":1}', { contentType: 'application/json', metadata });
        const s = await store.stat(u('stat/m.json'));
        expect(s).not.toBeNull();
        expect(s!.uri).toBe(u('stat/m.json'));
        expect(s!.size).toBe(7);
        expect(s!.contentType).toBe('application/json');
        expect(s!.metadata).toEqual(metadata);
        expect(s!.updated).toBeInstanceOf(Date);
        expect(await store.stat(u('stat/missing.json'))).toBeNull();
      });

      it('defaults the content type to application/octet-stream and metadata to {}', async () => {
        await store.put(u('stat/plain.dat'), 'x');
        const s = await store.stat(u('stat/plain.dat'));
        expect(s?.contentType).toBe('application/octet-stream');
        expect(s?.metadata ?? {}).toEqual({});
      });

      it('exists is true for written objects only', async () => {
        await store.put(u('exists/yes'), 'y');
        expect(await store.exists(u('exists/yes'))).toBe(true);
        expect(await store.exists(u('exists/no'))).toBe(false);
        expect(await store.exists(u('exists'))).toBe(false); // a "folder" is not an object
      });

      it('overwrites body, content type and metadata when ifNotExists is not set', async () => {
        await store.put(u('over/o'), 'first', { contentType: 'text/plain', metadata: { v: '1', old: 'x' } });
        await store.put(u('over/o'), 'second!', { contentType: 'text/csv', metadata: { v: '2' } });
        expect((await store.get(u('over/o'))).toString()).toBe('second!');
        const s = await store.stat(u('over/o'));
        expect(s?.size).toBe(7);
        expect(s?.contentType).toBe('text/csv');
        expect(s?.metadata).toEqual({ v: '2' });
      });

      it('keeps names with spaces and non-ASCII characters intact', async () => {
        const uri = u('names/é ü/空 白 #1?.txt');
        await store.put(uri, 'ok');
        expect((await store.get(uri)).toString()).toBe('ok');
        const listed = await store.list(u('names/'));
        expect(listed.map((o) => o.uri)).toEqual([uri]);
      });

      it('get of a missing object is a permanent NotFoundError naming the URI', async () => {
        const err = await expectError(store.get(u('missing/nothing.bin')), NotFoundError);
        expect(err.message).toContain(u('missing/nothing.bin'));
      });
    });

    describe('ifNotExists', () => {
      const reason = () => t?.unsupported?.ifNotExists;
      it('creates the object once, then fails with a permanent AlreadyExistsError and leaves it unchanged', async (ctx) => {
        if (reason()) {
          console.warn(`[skip] ${label}: ifNotExists: ${reason()}`);
          ctx.skip();
        }
        await store.put(u('once/a'), 'original', { ifNotExists: true, metadata: { k: '1' } });
        const err = await expectError(store.put(u('once/a'), 'replacement', { ifNotExists: true, metadata: { k: '2' } }), AlreadyExistsError);
        expect(err.message).toContain(u('once/a'));
        expect((await store.get(u('once/a'))).toString()).toBe('original');
        expect((await store.stat(u('once/a')))?.metadata).toEqual({ k: '1' });
        const file = join(scratch, 'once-upload.txt');
        await writeFile(file, 'via upload');
        await expectError(store.upload(file, u('once/a'), { ifNotExists: true }), AlreadyExistsError);
        await store.upload(file, u('once/b'), { ifNotExists: true });
        expect((await store.get(u('once/b'))).toString()).toBe('via upload');
      });

      it('lets exactly one of several concurrent ifNotExists writers win', async (ctx) => {
        if (reason()) {
          console.warn(`[skip] ${label}: concurrent ifNotExists: ${reason()}`);
          ctx.skip();
        }
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => store.put(u('race/winner'), `writer-${i}`, { ifNotExists: true, metadata: { writer: String(i) } })),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        expect(won).toHaveLength(1);
        for (const l of lost) expect(l.reason).toBeInstanceOf(AlreadyExistsError);
        const body = (await store.get(u('race/winner'))).toString();
        const meta = (await store.stat(u('race/winner')))?.metadata;
        expect(body).toBe(`writer-${meta?.writer}`); // bytes and metadata come from the same writer
      });
    });

    describe('list', () => {
      const names = ['a/1.txt', 'a/2.txt', 'a/b/3.txt', 'a/b/c/4.txt', 'ab/5.txt', 'abc.txt', 'b/6.txt'];
      beforeAll(async () => {
        // written out of order: list must sort
        for (const n of [...names].reverse()) await store.put(u(`list/${n}`), n);
      });

      it('returns every object under a folder prefix, nested ones included, sorted by URI', async () => {
        const got = await store.list(u('list/a/'));
        expect(got.map((o) => o.uri)).toEqual(['a/1.txt', 'a/2.txt', 'a/b/3.txt', 'a/b/c/4.txt'].map((n) => u(`list/${n}`)));
        expect(got[0]!.size).toBe('a/1.txt'.length);
      });

      it('treats the prefix as a string prefix, like Cloud Storage', async () => {
        expect((await store.list(u('list/a'))).map((o) => o.uri)).toEqual(
          ['a/1.txt', 'a/2.txt', 'a/b/3.txt', 'a/b/c/4.txt', 'ab/5.txt', 'abc.txt'].map((n) => u(`list/${n}`)),
        );
        expect((await store.list(u('list/a/b'))).map((o) => o.uri)).toEqual(['a/b/3.txt', 'a/b/c/4.txt'].map((n) => u(`list/${n}`)));
        expect((await store.list(u('list/ab'))).map((o) => o.uri)).toEqual(['ab/5.txt', 'abc.txt'].map((n) => u(`list/${n}`)));
        expect((await store.list(u('list/a/1'))).map((o) => o.uri)).toEqual([u('list/a/1.txt')]);
      });

      it('lists the whole run prefix and returns [] for a prefix with no objects', async () => {
        expect((await store.list(u('list/'))).map((o) => o.uri)).toEqual(names.map((n) => u(`list/${n}`)));
        expect(await store.list(u('list/zzz/'))).toEqual([]);
        expect(await store.list(u('list/a/b/c/4.txt/'))).toEqual([]);
      });

      it('includes content type and metadata in listed entries', async () => {
        await store.put(u('listmeta/x'), 'x', { contentType: 'text/plain', metadata: { k: 'v' } });
        const [one] = await store.list(u('listmeta/'));
        expect(one?.contentType).toBe('text/plain');
        expect(one?.metadata).toEqual({ k: 'v' });
      });

      it('lists a bucket root (gs://bucket and gs://bucket/) including this run', async () => {
        for (const p of [`gs://${t.bucket}`, `gs://${t.bucket}/`]) {
          const uris = (await store.list(p)).map((o) => o.uri);
          expect(uris).toContain(u('list/a/1.txt'));
          expect(uris).toEqual([...uris].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
        }
      });
    });

    describe('delete', () => {
      it('removes one object, leaves its neighbours, and is a no-op when the object is missing', async () => {
        await store.put(u('del/a/1'), '1');
        await store.put(u('del/a/2'), '2');
        await store.put(u('del/a/sub/3'), '3');
        await store.delete(u('del/a/sub/3'));
        expect(await store.exists(u('del/a/sub/3'))).toBe(false);
        expect(await store.stat(u('del/a/sub/3'))).toBeNull();
        expect((await store.list(u('del/'))).map((o) => o.uri)).toEqual([u('del/a/1'), u('del/a/2')]);
        await store.delete(u('del/a/sub/3'));
        await store.delete(u('del/never-written'));
        await expectError(store.get(u('del/a/sub/3')), NotFoundError);
      });

      it('allows a name to be reused after delete, with fresh metadata', async () => {
        await store.put(u('del/re'), 'old', { metadata: { gen: '1' } });
        await store.delete(u('del/re'));
        await store.put(u('del/re'), 'new');
        expect((await store.get(u('del/re'))).toString()).toBe('new');
        expect((await store.stat(u('del/re')))?.metadata ?? {}).toEqual({});
      });
    });

    describe('upload / download / localCopy', () => {
      it('uploads a local file with content type and metadata, and downloads it into new folders', async () => {
        const src = join(scratch, 'model.bst');
        const body = randomBytes(300_000);
        await writeFile(src, body);
        const info = await store.upload(src, u('files/model.bst'), { contentType: 'application/octet-stream', metadata: { framework: 'xgboost' } });
        expect(info.size).toBe(body.length);
        expect((await store.stat(u('files/model.bst')))?.metadata).toEqual({ framework: 'xgboost' });
        const dest = join(scratch, 'out', 'deep', 'model.bst');
        await store.download(u('files/model.bst'), dest);
        expect(sha(await readFile(dest))).toBe(sha(body));
      });

      it('streams a 7 MB file both ways and overwrites an existing local file', async () => {
        const src = join(scratch, 'big.bin');
        const body = randomBytes(7 * 1024 * 1024);
        await writeFile(src, body);
        await store.upload(src, u('files/big.bin'));
        const dest = join(scratch, 'big-copy.bin');
        await writeFile(dest, 'stale content');
        await store.download(u('files/big.bin'), dest);
        expect(sha(await readFile(dest))).toBe(sha(body));
      });

      it('download of a missing object fails with NotFoundError and leaves no file behind', async () => {
        const dir = join(scratch, 'dl-missing');
        await expectError(store.download(u('files/none'), join(dir, 'x.bin')), NotFoundError);
        expect(existsSync(join(dir, 'x.bin'))).toBe(false);
        const left = existsSync(dir) ? await readdir(dir) : [];
        expect(left).toEqual([]);
      });

      it('upload of a missing local file fails with NotFoundError and writes nothing', async () => {
        await expectError(store.upload(join(scratch, 'does-not-exist'), u('files/ghost')), NotFoundError);
        expect(await store.exists(u('files/ghost'))).toBe(false);
      });

      it('localCopy gives a readable path with the bytes; release keeps the object', async () => {
        const body = randomBytes(10_000);
        await store.put(u('copy/data.parquet'), body);
        const copy = await store.localCopy(u('copy/data.parquet'));
        expect(sha(await readFile(copy.path))).toBe(sha(body));
        await copy.release();
        expect(await store.exists(u('copy/data.parquet'))).toBe(true);
        await expectError(store.localCopy(u('copy/missing.parquet')), NotFoundError);
      });

      it('localCopy says which version it copied: its size, creation time and generation, read before the bytes', async () => {
        await store.put(u('copy/v.csv'), 'a\n1\n');
        const before = await store.stat(u('copy/v.csv'));
        const copy = await store.localCopy(u('copy/v.csv'));
        try {
          expect(copy.info).toMatchObject({ uri: u('copy/v.csv'), size: 4 });
          expect(copy.info.created).toBeInstanceOf(Date);
          expect(copy.info.generation).toBe(before!.generation);
          expect(copy.info.created!.getTime()).toBe(before!.created!.getTime());
        } finally {
          await copy.release();
        }
      });
    });

    describe('bad URIs', () => {
      const bad = [
        'http://bucket/x',
        's3://bucket/x',
        '/etc/passwd',
        'gs://Bad_Bucket/x',
        'gs://bucket',
        'gs://bucket/',
        'gs://bucket/../outside',
        'gs://bucket/a/../../outside',
        'gs://bucket/a/./b',
        'gs://bucket//abs',
        'gs://bucket/a//b',
        'gs://bucket/dir/',
        'gs://bucket/line\nbreak',
        `gs://bucket/${'x'.repeat(1025)}`,
      ];
      it.each(bad)('rejects %j with a permanent ValidationError on every operation', async (uri) => {
        const local = join(scratch, 'bad-uri.txt');
        await writeFile(local, 'x');
        await expectError(store.put(uri, 'x'), ValidationError);
        await expectError(store.get(uri), ValidationError);
        await expectError(store.stat(uri), ValidationError);
        await expectError(store.exists(uri), ValidationError);
        await expectError(store.delete(uri), ValidationError);
        await expectError(store.upload(local, uri), ValidationError);
        await expectError(store.download(uri, join(scratch, 'bad-out')), ValidationError);
        await expectError(store.localCopy(uri), ValidationError);
      });

      it('rejects list prefixes that are not gs:// URIs or that traverse', async () => {
        for (const p of ['bucket/a', 'gs://bucket/../x', 'gs://bucket/a/../b', 'file:///tmp']) {
          await expectError(store.list(p), ValidationError);
        }
      });

      it('rejects metadata whose values are not strings', async () => {
        await expectError(store.put(u('meta/bad'), 'x', { metadata: { n: 1 as unknown as string } }), ValidationError);
        expect(await store.exists(u('meta/bad'))).toBe(false);
      });
    });
  });
}
