// A tiny stand-in for the model server program (server/server.py), honouring the same Vertex AI custom-serving
// contract: AIP_HTTP_PORT, AIP_HEALTH_ROUTE, AIP_PREDICT_ROUTE, AIP_STORAGE_URI (a local model dir), listening on
// 0.0.0.0, `{"instances": [...]}` → `{"predictions": [...]}`. Its "model" is `standin.json` in the model dir:
//   { "bias": b, "weights": {feature: w}, "failHealth": false, "crashOnPredict": 0, "errorEvery": 0 }
// prediction = sigmoid(bias + Σ w·x) for named instances (array instances use weights in key order).
// failHealth: the health route answers 503 forever. failHealthIf: a path; health answers 503 while that file exists. crashOnPredict: n > 0 exits the process on the n-th predict.
// errorEvery: n > 0 answers 500 on every n-th predict.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';

const dir = (process.env.AIP_STORAGE_URI ?? '').replace(/^file:\/\//, '');
const model = JSON.parse(readFileSync(join(dir, 'standin.json'), 'utf8'));
const names = Object.keys(model.weights ?? {});
const port = Number(process.env.AIP_HTTP_PORT ?? 8080);
const health = process.env.AIP_HEALTH_ROUTE ?? '/health';
const predict = process.env.AIP_PREDICT_ROUTE ?? '/predict';
let calls = 0;

const score = (inst) => {
  let z = model.bias ?? 0;
  if (Array.isArray(inst)) names.forEach((n, i) => { z += (model.weights[n] ?? 0) * Number(inst[i] ?? 0); });
  else for (const n of names) z += (model.weights[n] ?? 0) * Number(inst?.[n] ?? 0);
  return 1 / (1 + Math.exp(-z));
};

createServer((req, res) => {
  const send = (code, body) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.method === 'GET' && req.url === health) {
    return model.failHealth || (model.failHealthIf && existsSync(model.failHealthIf)) ? send(503, { error: 'unhealthy' }) : send(200, {});
  }
  if (req.method !== 'POST' || req.url !== predict) return send(404, { error: 'not found' });
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    calls++;
    if (model.crashOnPredict && calls >= model.crashOnPredict) process.exit(3);
    if (model.errorEvery && calls % model.errorEvery === 0) return send(500, { error: 'stand-in error' });
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return send(400, { error: 'bad json' });
    }
    if (!Array.isArray(body?.instances)) return send(400, { error: 'instances must be an array' });
    send(200, { predictions: body.instances.map(score) });
  });
}).listen(port, '0.0.0.0');
