import { createServer, request, type IncomingMessage, type Server } from 'node:http';

/**
 * An HTTP proxy in front of the Cloud Storage emulator, for what the emulator cannot show:
 * - it records every request (method + URL), so tests can assert what the client library sent;
 * - with `enforceIfGenerationMatchZero`, an upload carrying `ifGenerationMatch=0` for a name that already exists is
 *   answered 412 in Cloud Storage's error shape, as real Cloud Storage does (the firebase-tools emulator ignores the
 *   precondition);
 * - `failNext(status, n)` answers the next n requests with that status (429/503 mapping).
 */
export interface GcsProxy {
  host: string;
  requests: { method: string; url: string }[];
  failNext(status: number, count?: number): void;
  close(): Promise<void>;
}

function send(res: import('node:http').ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ error: { code: status, message, errors: [{ message, reason: status === 412 ? 'conditionNotMet' : 'backendError' }] } });
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function objectExists(target: URL, bucket: string, name: string): Promise<boolean> {
  const r = await fetch(new URL(`/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(name)}`, target));
  await r.arrayBuffer();
  return r.status === 200;
}

export async function startGcsProxy(targetHost: string, opts: { enforceIfGenerationMatchZero?: boolean } = {}): Promise<GcsProxy> {
  const target = new URL(targetHost);
  const requests: GcsProxy['requests'] = [];
  let failures: { status: number; left: number } | undefined;

  const forward = (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    const up = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (ures) => {
        res.writeHead(ures.statusCode ?? 502, ures.headers);
        ures.pipe(res);
      },
    );
    up.on('error', (err) => send(res, 502, `proxy: ${err.message}`));
    req.pipe(up);
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
    if (opts.enforceIfGenerationMatchZero && m && name && url.searchParams.get('ifGenerationMatch') === '0') {
      req.pause();
      objectExists(target, decodeURIComponent(m[1]!), name).then(
        (exists) => {
          if (exists) {
            req.resume();
            send(res, 412, 'At least one of the pre-conditions you specified did not hold.');
          } else {
            forward(req, res); // pipe() resumes the paused request
          }
        },
        (err: Error) => send(res, 502, `proxy: ${err.message}`),
      );
      return;
    }
    forward(req, res);
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
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
