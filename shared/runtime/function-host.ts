import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ff from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { ConfigError } from '../errors.js';
import type { PubsubMessageIn } from '../events/binding.js';
import type { IncomingCloudEvent } from './cloud-event.js';
import type { PushLedger } from './push-ledger.js';

/** A function served by functions-framework on its own port. */
export interface HostedFunction {
  name: string;
  entryPoint: string;
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
}

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Serves functions under functions-framework in this process, each on its own port, and counts what Pub/Sub pushes
 * to them in a PushLedger (requests in flight, responses, message ids) so a caller can wait for deliveries to settle.
 *
 * Why one process: each function registered with functions-framework's programmatic API (`ff.cloudEvent`, then
 * `getTestServer(target)` — the Express app `functions-framework --target` serves; 5.0.5 exports no other server
 * factory) gets its own HTTP server and port, as each is its own Cloud Run service on GCP; but they share this
 * process's runtime, because the emulator-mode warehouse is one DuckDB file, which admits one writer process. On
 * GCP each function is its own service against BigQuery.
 */
export class FunctionHost {
  private readonly servers: Server[] = [];
  private readonly routes = new Map<string, { subscription: string; handle: (msg: PubsubMessageIn) => Promise<void> }>();
  private observer: { server: Server; url: string } | null = null;
  readonly functions: HostedFunction[] = [];

  constructor(private readonly ledger: PushLedger) {}

  /**
   * Register `fn` as functions-framework CloudEvent function `entryPoint` and serve it on `port` (0: a free port);
   * requests are counted under `subscription` (the push subscription that will deliver to it).
   */
  async serveCloudEvent(name: string, entryPoint: string, subscription: string, fn: (ce: IncomingCloudEvent) => Promise<void>, port: number): Promise<HostedFunction> {
    ff.cloudEvent(entryPoint, fn);
    const app = getTestServer(entryPoint).listeners('request')[0] as Listener;
    const server = createServer((req, res) => {
      // Express parses the body onto this same request object; read the message id from it once answered.
      this.track(subscription, res, () => pushedMessageId((req as IncomingMessage & { body?: unknown }).body));
      app(req, res);
    });
    const actual = await listen(server, port, `function ${name}`);
    const hosted = { name, entryPoint, port: actual, url: `http://127.0.0.1:${actual}` };
    this.servers.push(server);
    this.functions.push(hosted);
    return hosted;
  }

  /**
   * An observer endpoint (not a function: the demo's narration): raw push bodies for `subscription` at
   * `<observer url>/o/<subscription>`, decoded to their Pub/Sub message. Returns the base URL for the subscription.
   */
  async route(subscription: string, handle: (msg: PubsubMessageIn) => Promise<void>): Promise<string> {
    this.routes.set(subscription, { subscription, handle });
    if (!this.observer) {
      const server = createServer((req, res) => this.observe(req, res));
      const port = await listen(server, 0, 'observer endpoint');
      this.servers.push(server);
      this.observer = { server, url: `http://127.0.0.1:${port}` };
    }
    return `${this.observer.url}/o/${subscription}`;
  }

  unroute(subscription: string): void {
    this.routes.delete(subscription);
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((s) => new Promise<void>((r) => {
      s.close(() => r());
      s.closeAllConnections();
    })));
  }

  private observe(req: IncomingMessage, res: ServerResponse): void {
    const sub = /^\/o\/([^/]+)/.exec(req.url ?? '')?.[1];
    const route = sub ? this.routes.get(sub) : undefined;
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    let messageId: string | null = null;
    this.track(route.subscription, res, () => messageId);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let msg: PubsubMessageIn;
      try {
        const m = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { message: { data?: string; attributes?: Record<string, string>; messageId: string; publishTime: string } }).message;
        messageId = m.messageId;
        msg = { data: Buffer.from(m.data ?? '', 'base64'), attributes: m.attributes ?? {}, messageId: m.messageId, publishTime: m.publishTime };
      } catch {
        res.writeHead(400).end('not a Pub/Sub push body');
        return;
      }
      route.handle(msg).then(() => res.writeHead(204).end(), (err: unknown) => res.writeHead(500).end(String(err)));
    });
  }

  private track(subscription: string, res: ServerResponse, messageId: () => string | null): void {
    this.ledger.requestStarted(subscription);
    let ended = false;
    const end = (status: number) => {
      if (ended) return;
      ended = true;
      this.ledger.requestEnded(subscription, messageId(), status);
    };
    res.once('finish', () => end(res.statusCode));
    res.once('close', () => end(res.writableFinished ? res.statusCode : 499));
  }
}

/**
 * The Pub/Sub message id of a push request as functions-framework left `req.body`: the raw push body
 * (`message.messageId`), its legacy-event form (`context.eventId`) or the CloudEvent (`id` = message id).
 */
export function pushedMessageId(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as { message?: { messageId?: unknown }; context?: { eventId?: unknown }; id?: unknown; data?: unknown };
  for (const v of [b.message?.messageId, b.context?.eventId, b.id, (b.data as { message?: { messageId?: unknown } } | undefined)?.message?.messageId]) {
    if (typeof v === 'string' && v !== '') return v;
  }
  return null;
}

function listen(server: Server, port: number, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE'
      ? new ConfigError(`port ${port} for ${what} is in use`, { hint: `stop what listens on ${port}, or choose other ports with --functions-port (0 picks free ones)` })
      : err));
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}
