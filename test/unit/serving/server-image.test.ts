import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { modelServerCommand, serverScript } from '../../../shared/serving/server-command.js';

const root = new URL('../../../', import.meta.url).pathname;
const read = (p: string) => readFileSync(`${root}${p}`, 'utf8');

describe('model server image and local command agree', () => {
  it('cloudbuild.yaml builds server/Dockerfile, which copies server/server.py and pins Debian 12 xgboost 1.7.4', () => {
    expect(read('cloudbuild.yaml')).toMatch(/server\/Dockerfile/);
    const dockerfile = read('server/Dockerfile');
    expect(dockerfile).toMatch(/^FROM debian:12/m);
    expect(dockerfile).toMatch(/python3-xgboost/);
    expect(dockerfile).toMatch(/xgboost.__version__ == "1\.7\.4"/);
    const copy = /^COPY (\S+) (\S+)$/m.exec(dockerfile);
    expect(copy?.[1]).toBe('server/server.py');
    expect(existsSync(`${root}${copy![1]}`)).toBe(true);
    expect(dockerfile).toMatch(new RegExp(`ENTRYPOINT \\["python3", "${copy![2]}"\\]`));
  });

  it('the local command runs the same program with the AIP_* contract on 127.0.0.1; gs:// and file:// model dirs pass through', () => {
    const c = modelServerCommand();
    expect(c.command).toEqual(['/usr/bin/python3', serverScript()]);
    expect(serverScript()).toBe(`${root}server/server.py`);
    expect(c.env('gs://b/models/1/', 0)).toMatchObject({ AIP_STORAGE_URI: 'gs://b/models/1/', AIP_HTTP_PORT: '0', CTLOOP_SERVER_HOST: '127.0.0.1' });
    expect(c.env('file:///tmp/m', 9000).AIP_STORAGE_URI).toBe('/tmp/m');
  });
});
