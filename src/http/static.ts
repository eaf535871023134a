// Static files of a surface (its HTML page and JS bundle): compressed once at startup with
// gzip and brotli, chosen by Accept-Encoding, with strong per-variant ETags for revalidation.
import { createHash } from 'node:crypto';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import type { HttpContext } from './server.ts';
import { sendText } from './server.ts';

type Coding = 'br' | 'gzip' | 'identity';

interface Variant { body: Buffer; etag: string }

export interface StaticFile {
  contentType: string;
  variants: Record<Coding, Variant>;
}

export function staticFile(content: Buffer, contentType: string): StaticFile {
  const hash = createHash('sha256').update(content).digest('base64url').slice(0, 32);
  // RFC 9110 §8.8.3: a strong ETag names one representation, and each content coding is one.
  const variant = (body: Buffer, coding: Coding): Variant => ({ body, etag: `"${hash}${coding === 'identity' ? '' : `-${coding}`}"` });
  return {
    contentType,
    variants: {
      identity: variant(content, 'identity'),
      gzip: variant(gzipSync(content, { level: 9 }), 'gzip'),
      br: variant(brotliCompressSync(content, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: content.length } }), 'br'),
    },
  };
}

/** The best coding the client accepts (RFC 9110 §12.5.3): br over gzip over identity, q=0 refuses. */
export function negotiateEncoding(accept: string | undefined): Coding {
  const q = new Map<string, number>();
  for (const part of (accept ?? '').split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    if (name === '') continue;
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const coding = name.trim() === 'x-gzip' ? 'gzip' : name.trim(); // RFC 9110 §8.4.1.3: x-gzip is gzip
    q.set(coding, qp ? Number(qp.slice(2)) || 0 : 1);
  }
  const weight = (c: string) => q.get(c) ?? q.get('*') ?? 0;
  if (weight('br') > 0) return 'br';
  if (weight('gzip') > 0) return 'gzip';
  return 'identity';
}

/** Serves f for GET/HEAD; If-None-Match with the chosen variant's tag (weak comparison, RFC 9110 §13.1.2) → 304. */
export function serveStatic(c: HttpContext, f: StaticFile): void {
  const { req, res } = c;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD'); // RFC 9110 §15.5.6
    return sendText(res, 405, 'method not allowed');
  }
  const coding = negotiateEncoding(req.headers['accept-encoding']);
  const v = f.variants[coding];
  res.setHeader('Vary', 'Accept-Encoding');
  res.setHeader('Cache-Control', 'no-cache'); // always revalidate: a new build must show at once
  res.setHeader('ETag', v.etag);
  const inm = req.headers['if-none-match'];
  // RFC 9110 §13.1.2: the condition is false when a listed tag matches the selected representation's, not
  // another coding's (a cache holding only the gzip variant must not be told its copy fits a br request).
  if (inm !== undefined && inm.split(',').some((t) => t.trim() === '*' || t.trim().replace(/^W\//, '') === v.etag)) {
    res.writeHead(304); // RFC 9110 §15.4.5: with the ETag, Cache-Control and Vary a 200 would have had
    return void res.end();
  }
  res.setHeader('Content-Type', f.contentType);
  res.setHeader('Content-Length', v.body.length);
  if (coding !== 'identity') res.setHeader('Content-Encoding', coding);
  res.writeHead(200);
  res.end(req.method === 'HEAD' ? undefined : v.body);
}
