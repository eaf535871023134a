// A web surface's handler: its page (and script) at fixed paths, its API under api/.
import type { ApiEndpoint } from './api.ts';
import { sendText, type SurfaceHandler } from './server.ts';
import { serveStatic, type StaticFile } from './static.ts';

/** files: by path below the surface, '' for the page itself (e.g. { '': html, 'app.js': js }). */
export function surfaceHandler(o: { api?: ApiEndpoint; files?: Record<string, StaticFile> }): SurfaceHandler {
  return async (c) => {
    if (o.api && c.path.startsWith('api/')) return o.api(c, c.path.slice('api/'.length));
    const f = o.files && Object.hasOwn(o.files, c.path) ? o.files[c.path] : undefined;
    if (f) return serveStatic(c, f);
    sendText(c.res, 404, 'not found');
  };
}
