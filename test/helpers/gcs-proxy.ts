import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * An HTTP proxy in front of the Cloud Storage emulator, for what the emulator cannot show:
 * - it records every request (method + URL), so tests can assert what the client library sent;
 * - with `enforcePreconditions`, an upload carrying `ifGenerationMatch` (0 = "no live object", N = "the live
 *   object's generation is N") that does not hold is answered 412 in Cloud Storage's error shape, as Cloud Storage
 *   does (the firebase-tools emulator ignores the precondition). The check and the write are atomic per object:
 *   uploads of one object name are serialized through the proxy (check, forward, wait for the emulator's answer),
 *   so two concurrent `ifGenerationMatch=0` writes cannot both win. Resumable uploads are checked when the session
 *   is created (the session-creating POST carries the precondition);
 * - `failNext(status, n)` answers the next n requests with that status without forwarding them (429/503 mapping,
 *   retries);
 * - `loseNextUploadResponse(status)` forwards the next upload (it commits) and answers `status` instead of the
 *   emulator's answer: a write whose response was lost, which the client library then retries.
 */
export interface GcsProxy {
  host: string;
  requests: { method: string; url: string }[];
  failNext(status: number, count?: number): void;
  loseNextUploadResponse(status?: number): void;
  close(): Promise<void>;
}

export interface GcsProxyOptions {
  enforcePreconditions?: boolean;
  /** Old name of `enforcePreconditions`. */
  enforceIfGenerationMatchZero?: boolean;
}

function send(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ error: { code: status, message, errors: [{ message, reason: status === 412 ? 'conditionNotMet' : 'backendError' }] } });
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The live object's generation, or null when there is none. */
async function liveGeneration(target: URL, bucket: string, name: string): Promise<string | null> {
  const r = await fetch(new URL(`/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(name)}`, target));
  if (r.status === 404) {
    await r.arrayBuffer();
    return null;
  }
  if (r.status !== 200) throw new Error(`emulator answered ${r.status} to a metadata read`);
  const meta = (await r.json()) as { generation?: string | number };
  return String(meta.generation ?? '');
}

export async function startGcsProxy(targetHost: string, opts: GcsProxyOptions = {}): Promise<GcsProxy> {
  const target = new URL(targetHost);
  const enforce = Boolean(opts.enforcePreconditions ?? opts.enforceIfGenerationMatchZero);
  const requests: GcsProxy['requests'] = [];
  let failures: { status: number; left: number } | undefined;
  let loseUpload: number | undefined;
  /** Per-object chain: the next upload of a name starts when the previous one has been answered. */
  const locks = new Map<string, Promise<void>>();

  /** Forward; resolves when the emulator's answer has been relayed (or replaced by `replaceStatus`). */
  const forward = (req: IncomingMessage, res: ServerResponse, replaceStatus?: number) =>
    new Promise<void>((done) => {
      const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (ures) => {
        if (replaceStatus !== undefined) {
          ures.resume();
          ures.on('end', () => {
            send(res, replaceStatus, `injected ${replaceStatus} after the write committed`);
            done();
          });
          return;
        }
        res.writeHead(ures.statusCode ?? 502, ures.headers);
        ures.pipe(res);
        ures.on('end', () => done());
        ures.on('error', () => done());
      });
      up.on('error', (err) => {
        send(res, 502, `proxy: ${err.message}`);
        done();
      });
      req.pipe(up);
    });

  const withLock = (key: string, work: () => Promise<void>): void => {
    const prev = locks.get(key) ?? Promise.resolve();
    const next = prev.then(work, work);
    const tail = next.catch(() => undefined);
    locks.set(key, tail);
    void tail.then(() => {
      if (locks.get(key) === tail) locks.delete(key);
    });
  };

  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    if (failures && failures.left > 0) {
      failures.left--;
      req.resume();
      send(res, failures.status, `injected ${failures.status}`);
      return;
    }
    const url = new URL(req.url ?? '/', 'http://proxy');
    const m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    const name = url.searchParams.get('name');
    const isUpload = Boolean(m && req.method === 'POST' && name);
    const replace = isUpload && loseUpload !== undefined ? loseUpload : undefined;
    if (replace !== undefined) loseUpload = undefined;
    if (!isUpload) {
      void forward(req, res);
      return;
    }
    const bucket = decodeURIComponent(m![1]!);
    const wanted = url.searchParams.get('ifGenerationMatch');
    req.pause();
    withLock(`${bucket}/${name!}`, async () => {
      if (enforce && wanted !== null) {
        let live: string | null;
        try {
          live = await liveGeneration(target, bucket, name!);
        } catch (err) {
          req.resume();
          send(res, 502, `proxy: ${(err as Error).message}`);
          return;
        }
        const holds = wanted === '0' ? live === null : live === wanted;
        if (!holds) {
          req.resume();
          send(res, 412, 'At least one of the pre-conditions you specified did not hold.');
          return;
        }
      }
      await forward(req, res, replace); // pipe() resumes the paused request
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    host: `http://127.0.0.1:${port}`,
    requests,
    failNext(status, count = 1) {
      failures = { status, left: count };
    },
    loseNextUploadResponse(status = 503) {
      loseUpload = status;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
