import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CtloopError, describeError, NotFoundError, TransientError, ValidationError } from '../errors.js';
import type { PredictService } from './predict-service.js';

/** Vertex AI's limit for a request on a shared public endpoint. */
export const DEFAULT_BODY_LIMIT = 1_500_000;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface HttpOptions {
  host?: string;
  port?: number;
  /** When set, requests need `Authorization: Bearer <key>` or `X-API-Key: <key>` (compared in constant time). */
  apiKey?: string | null;
  bodyLimit?: number;
  /** Seconds in Retry-After when nothing can serve (503). */
  retryAfterSeconds?: number;
  /** Status text for GET /health (served models and versions). */
  health?: () => unknown;
}

export interface PredictHttpServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * `POST /predict` over node:http (no framework): JSON in and out, errors as {error, message, hint, fields}:
 * 400 bad body (fields named), 401 missing/wrong API key, 404 unknown model or route, 405 wrong method, 413 body over
 * the limit, 503 + Retry-After when nothing can serve, 500 otherwise. `GET /health` answers 200.
 */
export async function startPredictServer(service: PredictService, opts: HttpOptions = {}): Promise<PredictHttpServer> {
  const limit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const keyDigest = opts.apiKey ? digest(opts.apiKey) : null;
  const server = createServer((req, res) => {
    void handle(req, res).catch((err) => send(res, 500, { error: 'INTERNAL', message: describeError(err) }));
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const rid = req.headers['x-request-id'];
    const requestId = typeof rid === 'string' && REQUEST_ID.test(rid) ? rid : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    if (keyDigest && !authorized(req, keyDigest)) {
      req.resume();
      res.setHeader('WWW-Authenticate', 'Bearer realm="ctloop"');
      return send(res, 401, { error: 'UNAUTHENTICATED', message: 'missing or wrong API key', hint: 'send Authorization: Bearer <key> (or X-API-Key)' });
    }
    if (path === '/health') {
      req.resume();
      return send(res, 200, { status: 'ok', ...(opts.health ? { served: opts.health() } : {}) });
    }
    if (path !== '/predict') {
      req.resume();
      return send(res, 404, { error: 'NOT_FOUND', message: `no route ${path}`, hint: 'POST /predict or GET /health' });
    }
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('Allow', 'POST');
      return send(res, 405, { error: 'METHOD_NOT_ALLOWED', message: `${req.method} /predict`, hint: 'POST a JSON body' });
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return tooLarge(req, res, limit);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > limit) return tooLarge(req, res, limit);
      chunks.push(c);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (err) {
      return send(res, 400, { error: 'VALIDATION_FAILED', message: `the body is not JSON: ${(err as Error).message}`, hint: 'send {"instances": [{...}]} with Content-Type: application/json', fields: ['(body)'] });
    }
    try {
      send(res, 200, await service.predict(body, { requestId }));
    } catch (err) {
      errorReply(res, err, opts.retryAfterSeconds ?? 5);
    }
  }
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(opts.port ?? 8080, opts.host ?? '127.0.0.1', () => res());
  });
  server.keepAliveTimeout = 65_000;
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    server,
    close: () => new Promise((res) => { server.closeAllConnections(); server.close(() => res()); }),
  };
}

function errorReply(res: ServerResponse, err: unknown, retryAfter: number): void {
  const base = err instanceof CtloopError ? { error: err.code, message: err.message, hint: err.hint } : { error: 'INTERNAL', message: describeError(err) };
  if (err instanceof ValidationError) return send(res, 400, { ...base, fields: (err.details?.fields as string[] | undefined) ?? [] });
  if (err instanceof NotFoundError) return send(res, 404, base);
  if (err instanceof TransientError) {
    const s = Number(err.details?.retryAfterSeconds ?? retryAfter);
    res.setHeader('Retry-After', String(Number.isFinite(s) && s > 0 ? Math.ceil(s) : retryAfter));
    return send(res, 503, base);
  }
  process.stderr.write(`/predict failed: ${describeError(err)}\n`);
  send(res, 500, base);
}

function tooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  res.setHeader('Connection', 'close');
  res.once('finish', () => req.destroy());
  send(res, 413, { error: 'PAYLOAD_TOO_LARGE', message: `the body is over ${limit} bytes`, hint: 'split the instances over several requests' });
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Compare SHA-256 digests in constant time (equal lengths whatever the key sent). */
function authorized(req: IncomingMessage, expected: Buffer): boolean {
  const auth = req.headers.authorization;
  const sent = typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : req.headers['x-api-key'];
  if (typeof sent !== 'string') return false;
  return timingSafeEqual(digest(sent), expected);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const data = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
  res.end(data);
}
