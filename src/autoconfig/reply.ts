// An HTTP reply of this folder's handlers as plain data, so the documents can be made and
// tested without a socket, and written to the response in one place.
import type { HttpContext } from '../http/index.ts';

export interface Reply {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

export function textReply(status: number, text: string, headers?: Record<string, string>): Reply {
  return { status, contentType: 'text/plain; charset=utf-8', body: `${text}\n`, ...(headers ? { headers } : {}) };
}

export const notFound = (): Reply => textReply(404, 'not found');

export function writeReply(c: HttpContext, r: Reply): void {
  const body = Buffer.from(r.body, 'utf8');
  c.res.writeHead(r.status, { 'Content-Type': r.contentType, 'Content-Length': body.length, 'Cache-Control': 'no-store', ...r.headers });
  c.res.end(c.req.method === 'HEAD' ? undefined : body); // RFC 9110 §9.3.2: HEAD gets the headers of GET
}
