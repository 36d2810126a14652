import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, sep } from 'node:path';
import { ConfigError } from '../errors.js';
import type { ReportData } from './data.js';
import { reportSections } from './specs.js';

/**
 * The report as one self-contained HTML page: vega, vega-lite and vega-embed are inlined from their packages' min
 * builds, the data is inlined as JSON, and a Content-Security-Policy with `default-src 'none'` forbids the page any
 * request at all (no fonts, no images, no fetch). Each plot's Vega view is kept in `window.ctloopReport.views` and
 * `document.body.dataset.ready` is set once every plot rendered (`error` if one failed), for tests and tools.
 */
const require = createRequire(import.meta.url);
const LIBRARIES = [['vega', 'build/vega.min.js'], ['vega-lite', 'build/vega-lite.min.js'], ['vega-embed', 'build/vega-embed.min.js']] as const;

/** A file of a package that its `exports` do not list: found from the package's directory. */
function packageFile(name: string, file: string): string {
  const entry = require.resolve(name);
  const marker = `${sep}node_modules${sep}${name}${sep}`;
  const at = entry.lastIndexOf(marker);
  if (at < 0) throw new ConfigError(`cannot locate the ${name} package (resolved to ${entry})`, { hint: 'reinstall dependencies: npm ci' });
  return join(entry.slice(0, at + marker.length), file);
}

let libraries: Promise<string[]> | undefined;
function loadLibraries(): Promise<string[]> {
  libraries ??= Promise.all(LIBRARIES.map(async ([name, file]) => (await readFile(packageFile(name, file), 'utf8')).replace(/<\/script/gi, '<\\/script')));
  return libraries;
}

/** JSON that is safe inside a <script> element. */
const scriptJson = (x: unknown) => JSON.stringify(x).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const CSP = "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data:";

export async function renderReportHtml(data: ReportData): Promise<string> {
  const sections = reportSections(data);
  const libs = await loadLibraries();
  const body = sections.map((s) => `<section id="section-${s.id}">
<h2>${esc(s.title)}</h2>
<p class="note">${esc(s.description)}</p>
${s.spec ? `<div class="plot" id="plot-${s.id}" data-points="${s.values.length}"></div>` : `<p class="empty" id="empty-${s.id}">${esc(s.empty ?? '')}</p>`}
</section>`).join('\n');
  const plots = sections.filter((s) => s.spec).map((s) => ({ id: s.id, spec: s.spec, values: s.values }));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<title>ctloop report</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1400px; }
h1 { margin-bottom: 0; } .generated { color: #666; margin-top: .2rem; }
section { margin: 2rem 0; } .note { color: #555; max-width: 60rem; } .empty { color: #888; font-style: italic; }
</style>
</head>
<body>
<h1>ctloop report</h1>
<p class="generated">generated ${esc(data.generatedAt)}</p>
${body}
<script type="application/json" id="ctloop-plots">${scriptJson(plots)}</script>
${libs.map((l) => `<script>${l}</script>`).join('\n')}
<script>
(async () => {
  const plots = JSON.parse(document.getElementById('ctloop-plots').textContent);
  window.ctloopReport = { views: {} };
  try {
    for (const p of plots) {
      const spec = Object.assign({}, p.spec, { datasets: { table: p.values } });
      const r = await vegaEmbed('#plot-' + p.id, spec, { actions: false, renderer: 'svg' });
      window.ctloopReport.views[p.id] = r.view;
    }
    document.body.dataset.ready = 'true';
  } catch (err) {
    console.error(err);
    document.body.dataset.ready = 'error';
  }
})();
</script>
</body>
</html>
`;
}
