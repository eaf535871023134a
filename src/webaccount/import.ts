// Import: an upload route beside the API (`POST <surface>import`, the raw archive as body,
// session cookie + CSRF header) streams the archive to a temp file (0600, under the data
// dir's tmp/webimport), then src/mailexport imports it in the background, one import at a
// time per account. Progress, the result (with an error per bad file) or the failure go
// to the page over Server-Sent Events (`GET <surface>events/import?id=...`, WHATWG HTML
// §9.2); a page that reconnects or reloads asks importStatus and picks the job up again.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { z } from 'zod';
import { ApiError, requireSession, sendApiError, sendJson, type HttpContext, type Sessions } from '../http/index.ts';
import { logger } from '../log/index.ts';
import { countUncaughtError } from '../metrics/index.ts';
import { importMail, type ImportProgress, type ImportResult } from '../mailexport/index.ts';
import { maxImportBytes } from './limits.ts';
import { accountMethod, type AccountSurfaceDeps } from './method.ts';

const log = logger('webaccount');

/** A finished import's result stays this long for a page to fetch (a reload, a reconnect). */
const keepFinishedMs = 30 * 60_000;
/** Progress events at most this often: a big mbox reports per message. */
const progressIntervalMs = 200;
/** A comment line this often keeps proxies from timing the stream out. */
const heartbeatMs = 20_000;
/** Open event streams per account (tabs following the import); each holds a connection. */
const maxEventStreams = 8;

/** What the page is told, as the `data` (JSON) of the event named by `type`. */
export type ImportEvent =
  | { type: 'progress'; progress: ImportProgress }
  | { type: 'done'; result: ImportResult }
  | { type: 'error'; message: string };

/** An import as importStatus reports it. */
export interface ImportStatus {
  id: string; // for events/import?id=
  state: 'running' | 'done' | 'error';
  started: number; // ms since epoch
  size: number; // octets uploaded
  fileName: string; // as the browser named the upload (?name=); a single mbox file's mailbox is named after it; '' when not given
  progress: ImportProgress;
  result?: ImportResult; // when done
  error?: string; // when failed
}

interface Job extends ImportStatus {
  account: string;
  abort: AbortController;
  listeners: Set<(e: ImportEvent) => void>;
  finished?: Promise<void>;
  expiry?: NodeJS.Timeout;
}

export class ImportJobs {
  readonly #d: AccountSurfaceDeps;
  readonly #sessions: Sessions;
  readonly #dir: string;
  readonly #byId = new Map<string, Job>();
  readonly #byAccount = new Map<string, Job>(); // the latest of each account
  readonly #uploading = new Set<string>(); // accounts whose upload is being received
  readonly #streams = new Map<string, number>(); // account -> open event streams
  #closed = false;

  private constructor(d: AccountSurfaceDeps, sessions: Sessions, dir: string) {
    this.#d = d;
    this.#sessions = sessions;
    this.#dir = dir;
  }

  /** Makes the upload folder, removing uploads a crash left behind (their imports never ran to the end). */
  static async start(d: AccountSurfaceDeps, sessions: Sessions): Promise<ImportJobs> {
    const dir = `${d.config.paths.dataDir}/tmp/webimport`;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const f of await readdir(dir)) await rm(`${dir}/${f}`, { recursive: true, force: true });
    return new ImportJobs(d, sessions, dir);
  }

  /** The API method the page asks on load and after a broken event stream. */
  methods() {
    return {
      importStatus: accountMethod(z.object({}), (_i, { session }): { import: ImportStatus | null } => {
        const j = this.#byAccount.get(session.account);
        return { import: j ? status(j) : null };
      }),
    };
  }

  /** POST import[?name=<file name>]: the archive as the body. Answers {id} once the upload is stored and the import started. */
  async upload(c: HttpContext): Promise<void> {
    let reserved: string | undefined;
    let path: string | undefined;
    try {
      if (c.req.method !== 'POST') {
        c.res.setHeader('Allow', 'POST'); // RFC 9110 §15.5.6
        throw new ApiError('user:error', 'uploads are POST requests', 405);
      }
      const session = await requireSession(this.#sessions, c, undefined);
      const declared = c.req.headers['content-length'] === undefined ? undefined : Number(c.req.headers['content-length']);
      if (declared !== undefined && declared > maxImportBytes) throw new ApiError('user:error', `the file is too large (at most ${maxImportBytes / 1024 ** 3} GiB)`, 413); // RFC 9110 §15.5.14
      if (this.#closed) throw new ApiError('server:error', 'the server is stopping', 503);
      const account = session.account;
      if (this.#uploading.has(account) || this.#byAccount.get(account)?.state === 'running') throw new ApiError('user:error', 'an import is already running for this account; wait for it to finish', 409); // RFC 9110 §15.5.10
      this.#uploading.add(account);
      reserved = account;
      const id = randomBytes(16).toString('base64url');
      path = `${this.#dir}/${id}.upload`;
      const fileName = (c.url.searchParams.get('name') ?? '').replace(/^.*[/\\]/, '').slice(0, 255);
      const size = await receive(c, path);
      if (size === 0) throw new ApiError('user:error', 'the file is empty');
      const job: Job = { id, account, state: 'running', started: Date.now(), size, fileName, progress: { done: 0, fraction: 0 }, abort: new AbortController(), listeners: new Set() };
      this.#replace(job);
      job.finished = this.#run(job, path);
      path = undefined; // the job removes it
      c.log.info({ account, id, size, fileName }, 'import upload received');
      sendJson(c, 200, { id });
    } catch (e) {
      if (path) await rm(path, { force: true });
      const err = e instanceof ApiError ? e : new ApiError('server:error', 'internal server error');
      if (!(e instanceof ApiError)) {
        countUncaughtError('http');
        c.log.error({ err: e }, 'import upload failed');
      }
      if (!c.req.complete) c.res.setHeader('Connection', 'close'); // the rest of the body is not read
      sendApiError(c, err);
    } finally {
      if (reserved) this.#uploading.delete(reserved);
    }
  }

  /** GET events/import?id=: the job's events until it ends. Only the cookie: EventSource sends no headers (a GET changes nothing). */
  async events(c: HttpContext): Promise<void> {
    if (c.req.method !== 'GET') {
      c.res.setHeader('Allow', 'GET'); // RFC 9110 §15.5.6
      return sendApiError(c, new ApiError('user:error', 'event streams are GET requests', 405));
    }
    const sid = this.#sessions.idFromCookie(c.req.headers.cookie);
    const session = sid === undefined ? undefined : await this.#sessions.lookup(sid);
    if (!session) return sendApiError(c, new ApiError('user:noAuth', 'no session, or session expired; log in'));
    const job = this.#byId.get(c.url.searchParams.get('id') ?? '');
    if (!job || job.account !== session.account) return sendApiError(c, new ApiError('user:error', 'no such import', 404));
    const open = this.#streams.get(job.account) ?? 0;
    if (job.state === 'running' && open >= maxEventStreams) {
      c.res.setHeader('Retry-After', String(heartbeatMs / 1000)); // RFC 9110 §10.2.3
      return sendApiError(c, new ApiError('user:error', `at most ${maxEventStreams} pages can follow an import at once`, 429)); // RFC 6585 §4
    }
    c.res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' }); // WHATWG HTML §9.2.4
    const send = (e: ImportEvent) => {
      if (c.res.writableEnded) return;
      const { type, ...data } = e;
      c.res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`); // WHATWG HTML §9.2.6; one data line: JSON has no raw newlines
      if (type !== 'progress') c.res.end();
    };
    if (job.state !== 'running') return send(finalEvent(job));
    this.#streams.set(job.account, open + 1);
    send({ type: 'progress', progress: job.progress });
    const heartbeat = setInterval(() => c.res.writableEnded || c.res.write(': keepalive\n\n'), heartbeatMs); // WHATWG HTML §9.2.6: a comment line
    job.listeners.add(send);
    try {
      if (!c.res.closed) await new Promise<void>((resolve) => c.res.once('close', resolve)); // the client may be gone already
    } finally {
      clearInterval(heartbeat);
      job.listeners.delete(send);
      const left = (this.#streams.get(job.account) ?? 1) - 1;
      if (left > 0) this.#streams.set(job.account, left);
      else this.#streams.delete(job.account);
    }
  }

  /** Stops running imports (what was imported stays, and the result says so in the log) and waits for them. */
  async close(): Promise<void> {
    this.#closed = true;
    const jobs = [...this.#byId.values()];
    for (const j of jobs) {
      j.abort.abort();
      clearTimeout(j.expiry);
    }
    await Promise.all(jobs.map((j) => j.finished));
    this.#byId.clear();
    this.#byAccount.clear();
  }

  #replace(job: Job): void {
    const old = this.#byAccount.get(job.account);
    if (old) this.#forget(old);
    this.#byId.set(job.id, job);
    this.#byAccount.set(job.account, job);
  }

  #forget(job: Job): void {
    clearTimeout(job.expiry);
    this.#byId.delete(job.id);
    if (this.#byAccount.get(job.account) === job) this.#byAccount.delete(job.account);
  }

  async #run(job: Job, path: string): Promise<void> {
    let pending: NodeJS.Timeout | undefined;
    const emit = (e: ImportEvent) => {
      for (const l of job.listeners) l(e);
    };
    const flush = () => {
      pending = undefined;
      emit({ type: 'progress', progress: job.progress });
    };
    try {
      const account = await this.#d.store.openAccount(job.account);
      try {
        job.result = await importMail(account, path, {
          signal: job.abort.signal,
          tmpDir: this.#dir,
          ...(job.fileName ? { name: job.fileName } : {}),
          onProgress: (p) => {
            job.progress = p;
            pending ??= setTimeout(flush, progressIntervalMs);
          },
        });
      } finally {
        await account.close();
      }
      job.state = 'done';
      log.info({ account: job.account, id: job.id, imported: job.result.imported, errors: job.result.errors.length, fatal: job.result.fatal, ms: Date.now() - job.started }, 'import done');
    } catch (e) {
      countUncaughtError('http'); // importMail reports what is wrong with the archive in its result: this is the server's failure
      job.state = 'error';
      job.error = job.abort.signal.aborted ? 'the import was stopped: the server is shutting down' : e instanceof Error ? e.message : String(e);
      log.error({ err: e, account: job.account, id: job.id }, 'import failed');
    } finally {
      clearTimeout(pending);
      await rm(path, { force: true }).catch((e: unknown) => log.error({ err: e, path }, 'removing an import upload failed'));
      emit(finalEvent(job));
      job.listeners.clear();
      job.expiry = setTimeout(() => this.#forget(job), keepFinishedMs);
      job.expiry.unref();
    }
  }
}

function status(j: Job): ImportStatus {
  return { id: j.id, state: j.state, started: j.started, size: j.size, fileName: j.fileName, progress: j.progress, ...(j.result ? { result: j.result } : {}), ...(j.error === undefined ? {} : { error: j.error }) };
}

function finalEvent(j: Job): ImportEvent {
  return j.state === 'done' && j.result ? { type: 'done', result: j.result } : { type: 'error', message: j.error ?? 'the import failed' };
}

/** Streams the request body to a new file (0600); at most maxImportBytes. Returns the octets stored. */
async function receive(c: HttpContext, path: string): Promise<number> {
  const fh = await open(path, 'wx', 0o600);
  let size = 0;
  try {
    try {
      for await (const chunk of c.req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxImportBytes) throw new ApiError('user:error', `the file is too large (at most ${maxImportBytes / 1024 ** 3} GiB)`, 413);
        await fh.write(chunk);
      }
    } catch (e) {
      if (e instanceof ApiError || c.req.complete) throw e;
      throw new ApiError('user:error', 'the upload was cut off'); // the client went away ('aborted')
    }
    if (!c.req.complete) throw new ApiError('user:error', 'the upload was cut off');
  } finally {
    await fh.close();
  }
  return size;
}
