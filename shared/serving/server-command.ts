import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * How to start the model server program (server/server.py) as a local process: the command line, and the Vertex AI
 * custom-serving variables for one model directory and port. Used by the embedded endpoint to run one server per
 * deployed version.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function modelServerCommand(): { command: string[]; env(modelDir: string, port: number): Record<string, string> } {
  return {
    command: ['/usr/bin/python3', join(ROOT, 'server', 'server.py')],
    env: (modelDir, port) => ({
      AIP_HTTP_PORT: String(port),
      AIP_HEALTH_ROUTE: '/health',
      AIP_PREDICT_ROUTE: '/predict',
      AIP_STORAGE_URI: modelDir,
    }),
  };
}
