#!/usr/bin/env python3
"""ctloop model server: one xgboost model behind the Vertex AI custom serving container contract.

It runs unchanged as a local process (ctloop starts one per deployed version) and as the Vertex AI serving container
(server/Dockerfile). Environment (set by Vertex AI; ctloop sets the same for local runs):
  AIP_HTTP_PORT      port to listen on (default 8080), on 0.0.0.0
  AIP_HEALTH_ROUTE   GET route answering 200 once the model is loaded (default /health)
  AIP_PREDICT_ROUTE  POST route for predictions (default /predict)
  AIP_STORAGE_URI    the model directory: a local path, file://path, or gs://bucket/path (copied to a temp dir with
                     the google-cloud-storage library when installed, else the JSON API through google-auth)
  CTLOOP_SERVER_HOST listen address (default 0.0.0.0; ctloop's local runs pass 127.0.0.1)
  CTLOOP_SERVER_THREADS  xgboost threads per prediction (default 1: single-instance latency)

Model directory: model.bst (xgboost binary:logistic) and the feature order, from the first that exists:
  features.json         the reference trainer's spec {"numeric": [...], "categorical": {column: [categories]}}:
                        numeric columns first, then each categorical column as the index of its value in the list
                        (an unseen value or a missing one is missing), exactly as trainers/flight-delay encodes them
  feature_columns.json  an ordered list of feature names
  the booster's own feature names
Request {"instances": [{"feature": value, ...} | [v1, v2, ...]], "parameters": {...}} → {"predictions": [p, ...]}
(a list holds raw values in the feature order, categories as text like named ones)
(probability of the positive class). A missing feature or null is NaN (xgboost's missing value); names that are not
model features (entity keys, ids) are ignored. Errors answer {"error": message} with 400 (bad request) or 500.
"""
import json
import math
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import xgboost as xgb

MAX_BODY = 16 * 1024 * 1024


class BadRequest(Exception):
    pass


def fetch_model_dir(uri):
    """A local directory holding the model files of `uri` (gs:// objects are copied to a temp dir)."""
    if uri.startswith("file://"):
        return uri[len("file://"):]
    if not uri.startswith("gs://"):
        return uri
    dest = tempfile.mkdtemp(prefix="ctloop-model-")
    bucket, _, prefix = uri[len("gs://"):].partition("/")
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    for name, read in list_gcs(bucket, prefix):
        rel = name[len(prefix):]
        if not rel or rel.endswith("/"):
            continue
        path = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        read(path)
    return dest


def list_gcs(bucket, prefix):
    """(object name, download-to-path) pairs under a prefix: google-cloud-storage when installed, else the JSON API
    through google-auth (Debian's python3-google-auth + python3-requests, what server/Dockerfile installs)."""
    try:
        from google.cloud import storage  # type: ignore
        return [(b.name, b.download_to_filename) for b in storage.Client().list_blobs(bucket, prefix=prefix)]
    except ImportError:
        pass
    import urllib.parse
    import google.auth  # type: ignore
    from google.auth.transport.requests import AuthorizedSession  # type: ignore
    creds, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/devstorage.read_only"])
    session = AuthorizedSession(creds)
    api = f"https://storage.googleapis.com/storage/v1/b/{urllib.parse.quote(bucket, safe='')}/o"
    out, token = [], None
    while True:
        params = {"prefix": prefix, **({"pageToken": token} if token else {})}
        page = session.get(api, params=params, timeout=60)
        page.raise_for_status()
        body = page.json()
        for item in body.get("items", []):
            def read(path, name=item["name"]):
                r = session.get(f"{api}/{urllib.parse.quote(name, safe='')}", params={"alt": "media"}, timeout=300)
                r.raise_for_status()
                with open(path, "wb") as f:
                    f.write(r.content)
            out.append((item["name"], read))
        token = body.get("nextPageToken")
        if not token:
            return out


class Model:
    def __init__(self, model_dir, threads):
        path = os.path.join(model_dir, "model.bst")
        if not os.path.exists(path):
            raise FileNotFoundError(f"no model.bst in {model_dir} (AIP_STORAGE_URI must be the trainer's model directory)")
        self.booster = xgb.Booster(model_file=path)
        self.booster.set_param({"nthread": threads})
        self.categorical = {}
        spec_path = os.path.join(model_dir, "features.json")
        cols_path = os.path.join(model_dir, "feature_columns.json")
        if os.path.exists(spec_path):
            with open(spec_path) as f:
                spec = json.load(f)
            self.categorical = {c: {v: i for i, v in enumerate(cats)} for c, cats in spec.get("categorical", {}).items()}
            self.columns = list(spec.get("numeric", [])) + list(spec.get("categorical", {}).keys())
        elif os.path.exists(cols_path):
            with open(cols_path) as f:
                self.columns = list(json.load(f))
        else:
            self.columns = list(self.booster.feature_names or [])
        n = self.booster.num_features()
        if self.columns and len(self.columns) != n:
            raise ValueError(f"the model has {n} features but its feature list names {len(self.columns)}")
        self.width = n
        self.index = {c: i for i, c in enumerate(self.columns)}

    def value(self, column, v, where):
        if v is None:
            return math.nan
        cats = self.categorical.get(column)
        if cats is not None:
            return float(cats.get(str(v), math.nan))
        if isinstance(v, bool):
            return 1.0 if v else 0.0
        if isinstance(v, (int, float)):
            return float(v)
        raise BadRequest(f"{where}: feature {column} must be a number or null, got {json.dumps(v)[:80]}")

    def matrix(self, instances):
        x = np.full((len(instances), self.width), np.nan, dtype=np.float32)
        for r, inst in enumerate(instances):
            if isinstance(inst, dict):
                if not self.columns:
                    raise BadRequest("this model has no feature names: send each instance as a list of values in the training order")
                for k, v in inst.items():
                    j = self.index.get(k)
                    if j is not None:
                        x[r, j] = self.value(k, v, f"instances[{r}]")
            elif isinstance(inst, list):
                if len(inst) != self.width:
                    raise BadRequest(f"instances[{r}] has {len(inst)} values; the model takes {self.width}")
                for j, v in enumerate(inst):
                    name = self.columns[j] if self.columns else f"f{j}"
                    x[r, j] = self.value(name, v, f"instances[{r}]")
            else:
                raise BadRequest(f"instances[{r}] must be an object of feature values or a list of {self.width} values")
        return x

    def predict(self, instances):
        if not instances:
            return []
        return [float(p) for p in self.booster.inplace_predict(self.matrix(instances))]


def make_handler(model, health_route, predict_route):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: callers reuse connections

        def setup(self):
            super().setup()
            # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm holds the body until the
            # client's delayed ACK (~40 ms per request on Linux).
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, fmt, *args):  # access logs off; errors go to stderr below
            pass

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path.split("?")[0] == health_route:
                self.reply(200, {"status": "ok", "features": model.width})
            else:
                self.reply(404, {"error": f"no route {self.path}: GET {health_route}, POST {predict_route}"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            if self.path.split("?")[0] != predict_route:
                self.rfile.read(length)
                return self.reply(404, {"error": f"no route {self.path}: POST {predict_route}"})
            if length > MAX_BODY:
                self.close_connection = True
                return self.reply(413, {"error": f"request body over {MAX_BODY} bytes"})
            try:
                body = json.loads(self.rfile.read(length) or b"null")
                if not isinstance(body, dict) or not isinstance(body.get("instances"), list):
                    raise BadRequest('the body must be {"instances": [...]}')
                self.reply(200, {"predictions": model.predict(body["instances"])})
            except (BadRequest, ValueError) as e:
                self.reply(400, {"error": str(e)})
            except Exception as e:  # noqa: BLE001 - report, keep serving
                print(f"prediction failed: {e!r}", file=sys.stderr, flush=True)
                self.reply(500, {"error": f"prediction failed: {e}"})

    return Handler


def main():
    port = int(os.environ.get("AIP_HTTP_PORT", "8080"))
    host = os.environ.get("CTLOOP_SERVER_HOST", "0.0.0.0")
    health = os.environ.get("AIP_HEALTH_ROUTE", "/health")
    predict = os.environ.get("AIP_PREDICT_ROUTE", "/predict")
    uri = os.environ.get("AIP_STORAGE_URI")
    if not uri:
        sys.exit("error: AIP_STORAGE_URI is not set: point it at the model directory (model.bst)")
    local = fetch_model_dir(uri)
    try:
        model = Model(local, int(os.environ.get("CTLOOP_SERVER_THREADS", "1")))
    except (OSError, ValueError, xgb.core.XGBoostError) as e:
        sys.exit(f"error: cannot load the model from {uri}: {e}")
    finally:
        if local != uri and uri.startswith("gs://"):
            shutil.rmtree(local, ignore_errors=True)
    server = ThreadingHTTPServer((host, port), make_handler(model, health, predict))
    server.daemon_threads = True
    # ctloop reads this line for the port when it passes AIP_HTTP_PORT=0 (any free port).
    print(f"ctloop-model-server listening on {host}:{server.server_address[1]} model {uri} "
          f"({model.width} features) GET {health} POST {predict}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
