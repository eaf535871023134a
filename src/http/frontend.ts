// Builds a surface's frontend (TypeScript under web/) with esbuild when the server starts:
// one minified script and one stylesheet next to a static HTML page that loads them (the
// CSP allows no inline script or style). Served compressed with ETags (static.ts).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { staticFile, type StaticFile } from './static.ts';

const webDir = fileURLToPath(new URL('../../web/', import.meta.url));

const built = new Map<string, Promise<Record<string, StaticFile>>>();

/** The files of a surface's single-page app by path below the surface: '' (the page), app.js, app.css. Built once per process. */
export function frontendFiles(name: 'account' | 'admin', title: string): Promise<Record<string, StaticFile>> {
  let p = built.get(name);
  if (!p) {
    p = buildFrontend(name, title);
    built.set(name, p);
  }
  return p;
}

async function buildFrontend(name: string, title: string): Promise<Record<string, StaticFile>> {
  const r = await build({
    entryPoints: { app: `${webDir}${name}/main.ts` },
    bundle: true,
    minify: true,
    write: false,
    outdir: '/out',
    format: 'iife',
    target: ['chrome120', 'firefox120', 'safari17'],
    logLevel: 'silent',
    legalComments: 'none',
  });
  const out = (ext: string) => r.outputFiles.find((f) => f.path.endsWith(ext));
  const js = out('.js');
  const css = out('.css');
  if (!js || !css) throw new Error(`frontend ${name}: esbuild gave no ${js ? 'stylesheet' : 'script'}`);
  const esc = title.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc}</title>
<link rel="stylesheet" href="app.css">
<script src="app.js" defer></script>
</head>
<body>
<noscript>This page needs JavaScript.</noscript>
</body>
</html>
`;
  return {
    '': staticFile(Buffer.from(html), 'text/html; charset=utf-8'),
    'app.js': staticFile(Buffer.from(js.contents), 'text/javascript; charset=utf-8'),
    'app.css': staticFile(Buffer.from(css.contents), 'text/css; charset=utf-8'),
  };
}
