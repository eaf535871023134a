// Typed JSON APIs of the web surfaces: `POST <surface>api/<method>` with a JSON body (or a
// form post) validated by the method's zod schema, answered with its JSON result or
// `{code, message}`. Login and logout are built in: they make and end the session that
// every `auth: 'session'` method requires, together with the CSRF token.
import { z } from 'zod';
import { counter, countUncaughtError } from '../metrics/index.ts';
import type { AuthFailureLimiter } from '../sasl/index.ts';
import type { HttpContext } from './server.ts';
import { csrfMatches, type Session, type Sessions } from './sessions.ts';

/** Error codes the frontend acts on: after user:noAuth or user:badAuth it shows the login form and retries. */
export type ApiErrorCode = 'user:noAuth' | 'user:badAuth' | 'user:error' | 'server:error';

const statusOf: Record<ApiErrorCode, number> = { 'user:noAuth': 401, 'user:badAuth': 401, 'user:error': 400, 'server:error': 500 };

/** The body of every error response. */
export interface ApiErrorBody { code: ApiErrorCode; message: string }

/** Thrown by handlers (and this layer) for an error the client should see; anything else is a server:error. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ApiErrorCode;
  readonly status: number;
  constructor(code: ApiErrorCode, message: string, status?: number) {
    super(message);
    this.code = code;
    this.status = status ?? statusOf[code];
  }
}

export type Auth = 'none' | 'session';

/** What a method handler gets besides its input. */
export interface ApiCall<A extends Auth = Auth> {
  http: HttpContext;
  session: A extends 'session' ? Session : undefined;
  sessions: Sessions; // e.g. sessions.invalidateOtherSessions(session.account, session.id) after a password change
}

export interface ApiMethod<I extends z.ZodType = z.ZodType, O = unknown, A extends Auth = Auth> {
  auth: A;
  input: I;
  /** Returns the JSON result; or writes the response itself (a download) and returns nothing. */
  handler(input: z.output<I>, call: ApiCall<A>): Promise<O> | O;
}

export type Api = Record<string, ApiMethod>;

/** One method; the generic parameters keep its input, output and auth types for the frontend. */
export function method<I extends z.ZodType, O, A extends Auth>(m: ApiMethod<I, O, A>): ApiMethod<I, O, A> {
  return m;
}

/** An API: a table of methods. Its type (`typeof api`) is what the frontend imports. */
export function defineApi<M extends Api>(methods: M): M {
  for (const name of Object.keys(methods)) if (name in builtins) throw new Error(`api method ${name} is built in`);
  return methods;
}

/** Request type of a method, as the frontend sends it. */
export type ApiRequest<M extends ApiMethod> = z.input<M['input']>;
/** Response type of a method. */
export type ApiResponse<M extends ApiMethod> = Awaited<ReturnType<M['handler']>>;

export const loginRequest = z.object({ username: z.string().min(1).max(1000), password: z.string().max(1000) });
export type LoginRequest = z.infer<typeof loginRequest>;
export interface LoginResponse {
  account: string;
  csrfToken: string; // send as header x-mailcove-csrf (or form field csrf) with every other call
}
export type LogoutRequest = Record<string, never>;
export type LogoutResponse = Record<string, never>;
const builtins = { login: true, logout: true } as const;

/** Checks a login; the account name (or 'admin') when the credentials are right. */
export type LoginVerifier = (username: string, password: string) => Promise<string | undefined>;

export const csrfHeader = 'x-mailcove-csrf';
export const defaultMaxBodyBytes = 1024 * 1024;

const logins = counter<'surface' | 'result'>('mailcove_http_login_total', 'Web logins by surface and result (ok, badauth, ratelimited, error).', ['surface', 'result'],
  ['account', 'admin'].flatMap((surface) => ['ok', 'badauth', 'ratelimited'].map((result) => ({ surface, result }))));

export interface ApiEndpointOptions {
  surface: string; // metric label and log name: 'account', 'admin'
  api: Api;
  sessions: Sessions;
  verify: LoginVerifier;
  authFailures: AuthFailureLimiter; // shared with SMTP and IMAP
  maxBodyBytes?: number;
  /** Told of every login attempt, for the login history (account is the verified one, when ok). */
  onLogin?: (a: WebLoginAttempt) => void;
}

export interface WebLoginAttempt { username: string; account: string | undefined; ip: string; result: 'ok' | 'badauth' | 'ratelimited' | 'error'; secure: boolean }

export type ApiEndpoint = (c: HttpContext, methodName: string) => Promise<void>;

export function apiEndpoint(o: ApiEndpointOptions): ApiEndpoint {
  const maxBody = o.maxBodyBytes ?? defaultMaxBodyBytes;
  return async (c, name) => {
    try {
      if (c.req.method !== 'POST') {
        c.res.setHeader('Allow', 'POST'); // RFC 9110 §15.5.6
        throw new ApiError('user:error', 'api calls are POST requests', 405);
      }
      const m = Object.hasOwn(o.api, name) ? o.api[name] : undefined;
      if (!m && !Object.hasOwn(builtins, name)) throw new ApiError('user:error', `unknown api method ${JSON.stringify(name)}`, 404);
      const { body, formCsrf, form } = await readInput(c, maxBody);
      // JSON only: a cross-site page can post a form, but not JSON without a CORS preflight we never grant, so no
      // other site can log a browser into an account of its choosing (login CSRF).
      if (name === 'login' && form) throw new ApiError('user:error', 'log in with a JSON request', 415);
      if (name === 'login') return await login(o, c, body);
      if (name === 'logout') {
        const session = await requireSession(o.sessions, c, formCsrf);
        await o.sessions.end(session.id);
        c.res.setHeader('Set-Cookie', o.sessions.clearCookie(c.surfacePath, c.secure));
        return sendJson(c, 200, {});
      }
      if (!m) throw new ApiError('user:error', 'unknown api method', 404); // unreachable: builtins are handled above
      const session = m.auth === 'session' ? await requireSession(o.sessions, c, formCsrf) : undefined;
      const input = parse(m.input, body);
      const call: ApiCall = { http: c, session, sessions: o.sessions };
      const result = await m.handler(input, call);
      if (!c.res.headersSent) sendJson(c, 200, result ?? null);
    } catch (e) {
      sendError(o, c, name, e);
    }
  };
}

async function login(o: ApiEndpointOptions, c: HttpContext, body: unknown): Promise<void> {
  const { username, password } = parse(loginRequest, body);
  const record = (result: WebLoginAttempt['result'], account?: string) => o.onLogin?.({ username, account, ip: c.clientIP, result, secure: c.secure });
  if (!o.authFailures.allowed(c.clientIP)) {
    record('ratelimited');
    logins.inc({ surface: o.surface, result: 'ratelimited' });
    throw new ApiError('user:error', 'too many failed logins, try again later', 429);
  }
  let account: string | undefined;
  try {
    account = await o.verify(username, password);
  } catch (e) {
    record('error');
    logins.inc({ surface: o.surface, result: 'error' });
    throw e;
  }
  if (account === undefined) {
    record('badauth');
    logins.inc({ surface: o.surface, result: 'badauth' });
    c.log.info({ surface: o.surface, username, ip: c.clientIP }, 'web login failed');
    await o.authFailures.failed(c.clientIP); // waits the failure delay
    throw new ApiError('user:badAuth', 'wrong username or password');
  }
  o.authFailures.succeeded(c.clientIP);
  const old = o.sessions.idFromCookie(c.req.headers.cookie);
  if (old) await o.sessions.end(old); // a login replaces the browser's session on this surface
  const s = await o.sessions.create(account);
  record('ok', account);
  logins.inc({ surface: o.surface, result: 'ok' });
  c.log.info({ surface: o.surface, account, ip: c.clientIP }, 'web login');
  c.res.setHeader('Set-Cookie', o.sessions.setCookie(s, c.surfacePath, c.secure));
  sendJson(c, 200, { account, csrfToken: s.csrfToken } satisfies LoginResponse);
}

/** The request's session, with its CSRF token checked; without either the frontend must log in (again). For routes beside the API (uploads) too. */
export async function requireSession(sessions: Sessions, c: HttpContext, formCsrf: string | undefined): Promise<Session> {
  const id = sessions.idFromCookie(c.req.headers.cookie);
  const s = id === undefined ? undefined : await sessions.lookup(id);
  if (!s) throw new ApiError('user:noAuth', 'no session, or session expired; log in');
  const header = c.req.headers[csrfHeader];
  // 403: the cookie is valid but the request may be forged; user:noAuth makes the frontend log in and get a new token.
  if (!csrfMatches(s, typeof header === 'string' ? header : formCsrf)) throw new ApiError('user:noAuth', 'missing or wrong CSRF token; log in again', 403);
  return s;
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const r = schema.safeParse(body);
  if (!r.success) throw new ApiError('user:error', `bad request: ${r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ')}`);
  return r.data;
}

/** The body as JSON, or a form post's fields (strings) with its csrf field taken out. */
async function readInput(c: HttpContext, maxBody: number): Promise<{ body: unknown; form: boolean; formCsrf?: string }> {
  const type = (c.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const raw = await readBody(c, maxBody);
  if (!raw) throw new ApiError('user:error', `request body too large (max ${maxBody} bytes)`, 413); // RFC 9110 §15.5.14
  if (type === 'application/json' || (type === '' && raw.length === 0)) {
    if (raw.length === 0) return { body: {}, form: false };
    try {
      return { body: JSON.parse(raw.toString('utf8')) as unknown, form: false };
    } catch {
      throw new ApiError('user:error', 'request body is not valid JSON');
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    const fields: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) fields[k] = v;
    const formCsrf = fields['csrf'];
    delete fields['csrf'];
    return formCsrf === undefined ? { body: fields, form: true } : { body: fields, form: true, formCsrf };
  }
  throw new ApiError('user:error', `unsupported content type ${JSON.stringify(type)}`, 415); // RFC 9110 §15.5.16
}

/**
 * Reads a request body of at most maxBody bytes; undefined when it is larger (the caller
 * answers 413, RFC 9110 §15.5.14). A larger body is read and dropped up to 8×maxBody, so the
 * client reads the 413; beyond that, or when declared that large, it is not read and the
 * connection is closed after the answer (or cut).
 */
export async function readBody(c: HttpContext, maxBody: number): Promise<Buffer | undefined> {
  const req = c.req;
  const hardCap = maxBody * 8;
  if (Number(req.headers['content-length'] ?? 0) > hardCap) {
    c.res.setHeader('Connection', 'close'); // the body is not read: the connection cannot be reused
    return undefined;
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > hardCap) {
      req.socket.destroy();
      break;
    }
    if (n <= maxBody) chunks.push(chunk);
  }
  return n > maxBody ? undefined : Buffer.concat(chunks);
}

/** A JSON answer, never cached: every API response and the routes a surface adds beside its API (an upload). */
export function sendJson(c: HttpContext, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  c.res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
  c.res.end(body);
}

function sendError(o: ApiEndpointOptions, c: HttpContext, name: string, e: unknown): void {
  let err: ApiError;
  if (e instanceof ApiError) {
    err = e;
  } else {
    countUncaughtError('http');
    c.log.error({ err: e, surface: o.surface, method: name }, 'api method failed');
    err = new ApiError('server:error', 'internal server error');
  }
  sendApiError(c, err);
}

/** An error answer `{code, message}`; a response already under way is cut instead (a download that failed midway). */
export function sendApiError(c: HttpContext, err: ApiError): void {
  if (c.res.headersSent) return void c.res.destroy();
  // RFC 9110 §15.5.2: a 401 names the scheme to authenticate with; ours is the login method's session cookie (a
  // scheme no browser knows, so none shows its own password prompt).
  if (err.status === 401) c.res.setHeader('WWW-Authenticate', `MailcoveSession realm=${JSON.stringify(c.surfacePath)}`);
  sendJson(c, err.status, { code: err.code, message: err.message } satisfies ApiErrorBody);
}
