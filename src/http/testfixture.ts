// Test fixture for the web stack: an HTTP or HTTPS listener on loopback with an account
// surface (sessions in a fresh store) and an admin surface (sessions in memory), and a
// small client that keeps raw bytes and headers (fetch cannot take a self-signed certificate).
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { z } from 'zod';
import type { WindowLimit } from '../ratelimit/index.ts';
import { authFailureLimiter, type AuthFailureLimiter } from '../sasl/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { makeSelfSigned } from '../tls/index.ts';
import { ApiError, apiEndpoint, defineApi, method } from './api.ts';
import { startHttp, type HttpServers, type Surface } from './server.ts';
import { memorySessionBackend, Sessions, storeSessionBackend } from './sessions.ts';
import { staticFile } from './static.ts';
import { surfaceHandler } from './surface.ts';

export const testApi = defineApi({
  echo: method({ auth: 'session', input: z.object({ text: z.string().max(10) }), handler: ({ text }, call) => ({ text, account: call.session.account }) }),
  ping: method({ auth: 'none', input: z.object({}), handler: () => ({ pong: true }) }),
  whoami: method({ auth: 'none', input: z.object({}), handler: (_i, call) => ({ ip: call.http.clientIP, secure: call.http.secure }) }),
  changePassword: method({ auth: 'session', input: z.object({}), handler: async (_i, call) => ({ ended: await call.sessions.invalidateOtherSessions(call.session.account, call.session.id) }) }),
  refuse: method({ auth: 'none', input: z.object({}), handler: (): never => { throw new ApiError('user:error', 'not today'); } }),
});

export const page = {
  html: staticFile(Buffer.from(`<!doctype html><html><head><script src="app.js"></script></head><body>${'mail '.repeat(500)}</body></html>`), 'text/html; charset=utf-8'),
  js: staticFile(Buffer.from('console.log("hi");\n'.repeat(100)), 'text/javascript; charset=utf-8'),
};

export interface Response { status: number; headers: IncomingHttpHeaders; body: Buffer; json(): unknown }

export interface WebFixture {
  port: number;
  tls: boolean;
  store: Store;
  clock: { now: number };
  failures: AuthFailureLimiter;
  request(method: string, path: string, o?: { headers?: Record<string, string>; body?: string | Buffer }): Promise<Response>;
  /** POST JSON to an API method. */
  call(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** Logs in on the account surface: the cookie pair (name=value) and CSRF token. */
  login(username?: string, password?: string): Promise<{ cookie: string; csrf: string }>;
  /** Stops the listener; the store stays open (for restarts). */
  stop(): Promise<void>;
  /** Starts the listener again on a new port with the same store. */
  restart(): Promise<void>;
  done(): Promise<void>;
}

export async function webFixture(o: { tls?: boolean; forwarded?: boolean; requestLimits?: readonly WindowLimit[]; surfaces?: (f: { account: Surface; admin: Surface }) => Surface[] } = {}): Promise<WebFixture> {
  const dataDir = await mkdtemp(`${tmpdir()}/mailcove-http-`);
  const store = await openStore(dataDir);
  const clock = { now: Date.now() };
  const failures = authFailureLimiter({ delayMs: 0, limits: [{ windowMs: 60_000, limits: [3, 100, 100] }] });
  const tlsOpts = o.tls ? await makeSelfSigned({ names: ['localhost'], ips: ['127.0.0.1'] }) : undefined;
  const accountSessions = new Sessions({ cookieName: 'mailcove-account', backend: storeSessionBackend(store.auth, 'account'), now: () => clock.now });
  const adminSessions = new Sessions({ cookieName: 'mailcove-admin', backend: memorySessionBackend(), now: () => clock.now });
  const account: Surface = {
    path: '/',
    handler: surfaceHandler({
      api: apiEndpoint({ surface: 'account', api: testApi, sessions: accountSessions, authFailures: failures, verify: async (u, p) => (u === 'mjl@mox.example' && p === 'secret' ? 'mjl' : undefined) }),
      files: { '': page.html, 'app.js': page.js },
    }),
  };
  const admin: Surface = {
    path: '/admin/',
    handler: surfaceHandler({
      api: apiEndpoint({ surface: 'admin', api: testApi, sessions: adminSessions, authFailures: failures, verify: async (_u, p) => (p === 'adminpw' ? 'admin' : undefined) }),
      files: { '': page.html },
    }),
  };
  const surfaces = o.surfaces ? o.surfaces({ account, admin }) : [account, admin];
  let servers: HttpServers | undefined;
  const start = async () => {
    servers = await startHttp({
      listeners: [{ ip: '127.0.0.1', port: 0, surfaces, ...(tlsOpts ? { tls: { key: tlsOpts.keyPEM, cert: tlsOpts.certPEM } } : {}), ...(o.forwarded ? { forwarded: true } : {}) }],
      ...(o.requestLimits ? { requestLimits: o.requestLimits } : {}),
    });
    f.port = servers.addresses[0]!.port;
  };
  const f: WebFixture = {
    port: 0,
    tls: o.tls === true,
    store,
    clock,
    failures,
    request: (m, path, r = {}) => new Promise<Response>((resolve, reject) => {
      const req = (o.tls ? httpsRequest : httpRequest)({ host: '127.0.0.1', port: f.port, method: m, path, headers: { ...(r.body !== undefined ? { 'content-length': String(Buffer.byteLength(r.body)) } : {}), ...r.headers }, agent: false, rejectUnauthorized: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) as unknown });
        });
      });
      req.on('error', reject);
      req.end(r.body);
    }),
    call: (path, body, headers = {}) => f.request('POST', path, { headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }),
    login: async (username = 'mjl@mox.example', password = 'secret') => {
      const r = await f.call('/api/login', { username, password });
      if (r.status !== 200) throw new Error(`login: ${r.status} ${r.body.toString()}`);
      const cookie = String(r.headers['set-cookie']?.[0]).split(';')[0]!;
      return { cookie, csrf: (r.json() as { csrfToken: string }).csrfToken };
    },
    stop: async () => {
      await servers?.close();
      servers = undefined;
    },
    restart: start,
    done: async () => {
      await f.stop();
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  await start();
  return f;
}
