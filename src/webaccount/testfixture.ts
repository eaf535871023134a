// A running account page for tests: config and data in a temp directory (two accounts with
// a known password), the account surface on a loopback HTTP listener, optionally IMAP on
// the same store and failed-login limiter, and a small client keeping raw bytes and
// headers. Test-only.
import { request, type IncomingHttpHeaders } from 'node:http';
import { loopbackStatic, serverDir, type ServerDir } from '../../test/serverdir.ts';
import { startHttp, type HttpServers } from '../http/index.ts';
import { startImap, type RunningImap } from '../imapserver/index.ts';
import type { WindowLimit } from '../ratelimit/index.ts';
import { authFailureLimiter, type AuthFailureLimiter } from '../sasl/index.ts';
import { accountSurface } from './index.ts';

export const testPassword = 'test1234 secret';

export const domainsText = `domains:
  example.com: {}
  example.org: {}
accounts:
  mjl:
    domain: example.com
    destinations:
      mjl@example.com: {}
      postmaster: {}
      '@example.org': {}
  other:
    domain: example.com
    destinations:
      other@example.com: {}
`;

export interface Response { status: number; headers: IncomingHttpHeaders; body: Buffer; json<T = unknown>(): T }

export interface Login { cookie: string; csrf: string }

export interface AccountFixture extends ServerDir {
  port: number;
  failures: AuthFailureLimiter;
  imapPort(): number;
  request(method: string, path: string, o?: { headers?: Record<string, string>; body?: string | Buffer }): Promise<Response>;
  /** POSTs JSON to an API method, with the login's cookie and CSRF header when given. */
  call(name: string, body: unknown, login?: Login, headers?: Record<string, string>): Promise<Response>;
  /** Logs in; the cookie pair (name=value) and CSRF token. */
  login(username?: string, password?: string): Promise<Login>;
  /** Reads the Server-Sent Events of a GET until the server ends the stream. */
  events(path: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; events: Array<{ event: string; data: unknown }> }>;
  done(): Promise<void>;
}

export async function accountFixture(o: { imap?: boolean; loginFailureLimit?: number } = {}): Promise<AccountFixture> {
  const sd = await serverDir({ prefix: 'mailcove-webaccount-', static: loopbackStatic('imap'), domains: domainsText, password: testPassword });
  const limits: WindowLimit[] = [{ windowMs: 60_000, limits: [o.loginFailureLimit ?? 50, 1000, 1000] }];
  const failures = authFailureLimiter({ delayMs: 0, limits });
  let surface: Awaited<ReturnType<typeof accountSurface>> | undefined;
  let servers: HttpServers | undefined;
  let imap: RunningImap | undefined;
  try {
    surface = await accountSurface({ config: sd.config, store: sd.store, domains: () => sd.domains.current(), authFailures: failures });
    servers = await startHttp({ listeners: [{ ip: '127.0.0.1', port: 0, surfaces: [{ path: '/', handler: surface.handler }] }] });
    if (o.imap) imap = await startImap({ config: sd.config, store: sd.store, domains: sd.domains, localserve: true, authFailures: failures, ports: { imap: 0 } });
  } catch (e) {
    await surface?.close();
    await servers?.close();
    await sd.remove();
    throw e;
  }
  const port = servers.addresses[0]!.port;
  const f: AccountFixture = {
    ...sd,
    port,
    failures,
    imapPort: () => imap!.addresses.find((a) => a.service === 'imap')!.port,
    request: (method, path, r = {}) => new Promise<Response>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, headers: { ...(r.body !== undefined ? { 'content-length': String(Buffer.byteLength(r.body)) } : {}), ...r.headers }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: <T>() => JSON.parse(body.toString('utf8')) as T });
        });
      });
      req.on('error', reject);
      req.end(r.body);
    }),
    call: (name, body, login, headers = {}) => f.request('POST', `/api/${name}`, { headers: { 'content-type': 'application/json', ...(login ? { cookie: login.cookie, 'x-mailcove-csrf': login.csrf } : {}), ...headers }, body: JSON.stringify(body) }),
    login: async (username = 'mjl@example.com', password = testPassword) => {
      const r = await f.call('login', { username, password });
      if (r.status !== 200) throw new Error(`login: ${r.status} ${r.body.toString()}`);
      return { cookie: String(r.headers['set-cookie']?.[0]).split(';')[0]!, csrf: r.json<{ csrfToken: string }>().csrfToken };
    },
    events: async (path, headers) => {
      const r = await f.request('GET', path, { headers });
      const events: Array<{ event: string; data: unknown }> = [];
      if (r.status !== 200) return { status: r.status, headers: r.headers, events };
      for (const block of r.body.toString('utf8').split('\n\n')) {
        const lines = block.split('\n').filter((l) => l !== '' && !l.startsWith(':')); // WHATWG HTML §9.2.6: ':' starts a comment
        if (lines.length === 0) continue;
        const event = lines.find((l) => l.startsWith('event: '))?.slice('event: '.length) ?? 'message';
        const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice('data: '.length)).join('\n');
        events.push({ event, data: JSON.parse(data) as unknown });
      }
      return { status: r.status, headers: r.headers, events };
    },
    done: async () => {
      await imap?.close(1000);
      await servers!.close();
      await surface!.close();
      await sd.remove();
    },
  };
  return f;
}
