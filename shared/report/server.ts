import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError } from '../errors.js';

/**
 * `ctloop ui`: the report served on 127.0.0.1 only. Every GET / renders the page again from the loop's records, so
 * a reload shows what changed; anything else is 404. The page itself makes no request (see html.ts).
 */
export async function serveReport(render: () => Promise<string>, opts: { port: number; host?: string }): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' || (path !== '/' && path !== '/index.html')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: the report is at /\n');
      return;
    }
    render().then(
      (html) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html),
      (err) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`could not build the report: ${describeError(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
