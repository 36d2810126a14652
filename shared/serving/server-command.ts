import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';

/** Routes the model server answers on (Vertex AI sets its own through AIP_* variables; these are ctloop's). */
export const HEALTH_ROUTE = '/health';
export const PREDICT_ROUTE = '/predict';
/** The Debian interpreter with python3-xgboost 1.7.4, the build the reference trainer uses. */
export const DEFAULT_PYTHON = '/usr/bin/python3';

export interface ModelServerCommand {
  /** Program and arguments (run with `env`, merged over the parent's environment). */
  command: string[];
  /** Environment of one server: the Vertex AI serving contract, with the model directory and the port (0 = any free). */
  env(modelDir: string, port: number): Record<string, string>;
}

/** server/server.py, found from this module upward (works from the sources and from a build under dist/). */
export function serverScript(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'server', 'server.py');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new ConfigError('the model server program server/server.py was not found', { hint: 'run ctloop from a checkout of the repository (server/ holds the model server)' });
}

/**
 * How to start the model server locally: the same program and the same AIP_* variables Vertex AI gives the custom
 * serving container (server/Dockerfile), bound to 127.0.0.1 (the container listens on 0.0.0.0).
 */
export function modelServerCommand(opts: { python?: string; threads?: number } = {}): ModelServerCommand {
  const script = serverScript();
  return {
    command: [opts.python ?? DEFAULT_PYTHON, script],
    env(modelDir, port) {
      return {
        AIP_HTTP_PORT: String(port),
        AIP_HEALTH_ROUTE: HEALTH_ROUTE,
        AIP_PREDICT_ROUTE: PREDICT_ROUTE,
        AIP_STORAGE_URI: modelDir.startsWith('gs://') ? modelDir : resolve(modelDir.startsWith('file://') ? fileURLToPath(modelDir) : modelDir),
        CTLOOP_SERVER_HOST: '127.0.0.1',
        CTLOOP_SERVER_THREADS: String(opts.threads ?? 1),
        PYTHONUNBUFFERED: '1',
      };
    },
  };
}
