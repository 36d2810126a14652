import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const read = (p: string) => readFileSync(`${root}${p}`, 'utf8');

describe('trainer image: cloudbuild.yaml, the Dockerfile and the local runs agree', () => {
  it('cloudbuild builds the trainer image from a Dockerfile that exists, whose COPY sources exist', () => {
    const m = /trainer=([^\s]+Dockerfile)/.exec(read('cloudbuild.yaml'));
    expect(m, 'cloudbuild.yaml names the trainer Dockerfile').not.toBeNull();
    const dockerfile = m![1]!;
    expect(existsSync(`${root}${dockerfile}`), dockerfile).toBe(true);
    for (const [, src] of read(dockerfile).matchAll(/^COPY\s+(\S+)\s+\S+$/gm)) expect(existsSync(`${root}${src}`), `COPY ${src}`).toBe(true);
  });

  it('the image is Debian 12 with the python3-xgboost the local runs use, and models.yaml runs the same script locally', () => {
    const df = read('trainers/flight-delay/Dockerfile');
    expect(df).toMatch(/^FROM debian:12/m);
    expect(df).toMatch(/python3-xgboost/);
    expect(df).toMatch(/xgboost\.__version__ == "1\.7\.4"/);
    expect(df).toMatch(/ENTRYPOINT \["python3", "\/trainer\/train\.py"\]/);
    expect(read('models.yaml')).toMatch(/command: \[\/usr\/bin\/python3, trainers\/flight-delay\/train\.py\]/);
  });
});
