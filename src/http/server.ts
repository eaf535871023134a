// The HTTP(S) listeners of the web surfaces (DESIGN.md, Web): one node:http/node:https
// server per listener, routing by host and longest path prefix to a surface handler,
// security headers on every response, a request rate limit per IP class, and the
// client IP (the socket's, or the proxy's X-Forwarded-For last hop).
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIP, type AddressInfo } from 'node:net';
import type { SecureContextOptions, TLSSocket, TlsOptions } from 'node:tls';
import { httpChallengePrefix, httpChallengeResponse } from '../acme/index.ts';
import { logger, newCid, type Logger } from '../log/index.ts';
import { countTlsConnection, countUncaughtError } from '../metrics/index.ts';
import { RateLimiter, type WindowLimit } from '../ratelimit/index.ts';
import { listenOn } from '../conn/listen.ts';

/** What a surface handler gets for one request. */
export interface HttpContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL; // path and query as requested (its host is a placeholder: read req.headers.host for the name asked for)
  surfacePath: string; // the surface's prefix, e.g. '/' or '/admin/'
  path: string; // the path below surfacePath, without leading slash: '' for the page, 'api/login'
  clientIP: string;
  secure: boolean; // HTTPS to the client (own TLS, or a forwarding proxy's X-Forwarded-Proto)
  log: Logger; // with the request's cid
}

export type SurfaceHandler = (c: HttpContext) => Promise<void> | void;

export interface Surface {
  path: string; // '/', '/admin/', ...: starts and ends with '/'
  handler: SurfaceHandler;
  host?: string; // only requests for this host name (Host header, without port)
}

export interface HttpListener {
  ip: string;
  port: number; // 0: any free port
  /** HTTPS when set: options for https.createServer, e.g. loadListenerTls(...).serverOptions() or { key, cert } or { SNICallback }. */
  tls?: SecureContextOptions | TlsOptions;
  /** With tls: a server made once keeps serving the current default certificate (clients without SNI); `apply` takes new options. */
  tlsUpdates?: (apply: (o: SecureContextOptions) => void) => () => void;
  surfaces: Surface[];
  /** Behind a reverse proxy: the client IP is X-Forwarded-For's last hop, HTTPS per X-Forwarded-Proto. */
  forwarded?: boolean;
}

export interface HttpServers {
  addresses: Array<{ ip: string; port: number }>; // in the order of the listeners
  close(): Promise<void>;
}

/** Requests per IP class: per minute 600/1500/3000 for /32,/26,/21 (IPv6 /64,/48,/32): pages and a busy frontend fit, a flood does not. */
export const defaultRequestLimits: readonly WindowLimit[] = [{ windowMs: 60_000, limits: [600, 1500, 3000] }];

// No inline script or style: the bundles are separate files (DESIGN.md, Web).
export const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const securityHeaders: ReadonlyArray<[string, string]> = [
  ['Content-Security-Policy', contentSecurityPolicy],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'same-origin'],
  ['X-Frame-Options', 'DENY'], // for browsers without CSP frame-ancestors
];
// RFC 6797 §7.2: only over secure transport. No includeSubDomains: other hosts under the domain are not ours to pin.
const hsts = 'max-age=31536000';

const log = logger('http');

// Request line and headers together; beyond it node answers 431 (RFC 6585 §5). Cookies and a CSRF header fit many times.
const maxHeaderSize = 16 * 1024;

export async function startHttp(o: { listeners: HttpListener[]; requestLimits?: readonly WindowLimit[]; log?: Logger }): Promise<HttpServers> {
  const httpLog = o.log ?? log;
  const limits = o.requestLimits ?? defaultRequestLimits;
  const limiter = new RateLimiter(limits);
  const retryAfter = String(Math.ceil(Math.min(...limits.map((w) => w.windowMs)) / 1000)); // seconds until the shortest window has moved on
  const servers: Server[] = [];
  const addresses: Array<{ ip: string; port: number }> = [];
  try {
    for (const l of o.listeners) {
      const onRequest = (req: IncomingMessage, res: ServerResponse) => void handle(l, limiter, retryAfter, httpLog, req, res);
      // RFC 8996: no TLS 1.0/1.1. No client certificates: loadListenerTls asks for them (SASL EXTERNAL), but a browser
      // asked would prompt its user to pick one.
      const server: Server = l.tls ? createHttpsServer({ ...l.tls, minVersion: l.tls.minVersion ?? 'TLSv1.2', requestCert: false, maxHeaderSize }, onRequest) : createHttpServer({ maxHeaderSize }, onRequest);
      server.headersTimeout = 20_000; // slow-loris: all headers within 20 s
      // No limit on a whole request (an account import of 1 GiB takes long on a slow line), but an
      // idle connection is cut: headers must come within headersTimeout, and a body must keep moving.
      server.requestTimeout = 0;
      server.timeout = 120_000;
      server.keepAliveTimeout = 5_000;
      // No 'clientError' listener: node's default answers a malformed request 400, headers over maxHeaderSize 431
      // (RFC 6585 §5) and a request not in within headersTimeout 408 (RFC 9110 §15.5.9), then closes.
      if (l.tls) server.on('secureConnection', (socket: TLSSocket) => countTlsConnection('http', socket.getProtocol()));
      if (l.tls && l.tlsUpdates) server.once('close', l.tlsUpdates((o) => (server as import('node:https').Server).setSecureContext(o)));
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(listenOn(l.ip, l.port), () => {
          server.off('error', reject);
          resolve();
        });
      });
      const a = server.address() as AddressInfo;
      addresses.push({ ip: a.address, port: a.port });
    }
  } catch (e) {
    await closeAll(servers);
    throw e;
  }
  return { addresses, close: () => closeAll(servers) };
}

async function closeAll(servers: Server[]): Promise<void> {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
    if (!s.listening) return resolve();
    s.close(() => resolve());
    s.closeAllConnections();
  })));
}

async function handle(l: HttpListener, limiter: RateLimiter, retryAfter: string, httpLog: Logger, req: IncomingMessage, res: ServerResponse): Promise<void> {
  for (const [k, v] of securityHeaders) res.setHeader(k, v);
  const secure = l.tls !== undefined || (l.forwarded === true && lastHop(req.headers['x-forwarded-proto'])?.toLowerCase() === 'https');
  if (secure) res.setHeader('Strict-Transport-Security', hsts); // behind our proxy too: the browser spoke HTTPS
  const clientIP = clientAddress(req, l.forwarded === true);
  const reqLog = httpLog.child({ cid: newCid() });
  try {
    if (!limiter.add(clientIP)) {
      res.setHeader('Retry-After', retryAfter); // RFC 6585 §4, RFC 9110 §10.2.3
      return sendText(res, 429, 'too many requests, try again later');
    }
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1').toLowerCase();
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://host.invalid'); // host only for parsing; routing uses the Host header
    } catch {
      return sendText(res, 400, 'bad request target');
    }
    const pathname = url.pathname;
    if (pathname.startsWith(httpChallengePrefix)) {
      const keyAuthorization = httpChallengeResponse(host, pathname.slice(httpChallengePrefix.length)); // ACME http-01, RFC 8555 §8.3
      if (keyAuthorization !== undefined) {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-store' });
        return void res.end(keyAuthorization);
      }
    }
    const candidates = l.surfaces.filter((s) => s.host === undefined || s.host.toLowerCase() === host);
    const slashed = candidates.find((s) => s.path === `${pathname}/`);
    if (slashed) return redirect(res, slashed.path); // '/admin' → '/admin/', before '/' would take it
    const surface = candidates.filter((s) => pathname.startsWith(s.path)).sort((a, b) => b.path.length - a.path.length)[0];
    if (!surface) {
      const admin = candidates.find((s) => s.path === '/admin/');
      if (pathname === '/' && admin) return redirect(res, admin.path); // account page not served here (issue 6)
      return sendText(res, 404, 'not found');
    }
    await surface.handler({ req, res, url, surfacePath: surface.path, path: pathname.slice(surface.path.length), clientIP, secure, log: reqLog });
  } catch (e) {
    countUncaughtError('http');
    reqLog.error({ err: e, method: req.method, url: req.url }, 'unexpected error handling request');
    if (!res.headersSent) sendText(res, 500, 'internal server error');
    else res.destroy();
  }
}

/** The client's IP: the socket peer, or when forwarded, the last X-Forwarded-For hop (the one our proxy added; earlier hops are the client's say). */
export function clientAddress(req: IncomingMessage, forwarded: boolean): string {
  const peer = req.socket.remoteAddress ?? '';
  if (!forwarded) return peer;
  const hop = lastHop(req.headers['x-forwarded-for']);
  return hop && isIP(hop) ? hop : peer;
}

function lastHop(h: string | string[] | undefined): string | undefined {
  const v = Array.isArray(h) ? h.join(',') : h;
  return v?.split(',').map((s) => s.trim()).filter((s) => s !== '').at(-1);
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`${text}\n`);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { Location: location, 'Cache-Control': 'no-store' }); // RFC 9110 §15.4.3
  res.end();
}
