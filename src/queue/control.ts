// The control socket: a Unix domain socket in the data directory, mode 0600 (only the user
// the server runs as), through which `mailcove queue ...` runs the queue's operations in
// the running server. One JSON request per line, one JSON response per line, in order;
// arguments are checked against the op's zod schema before the queue sees them.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmod, lstat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { normalizeDomain } from '../config/index.ts';
import { logger, type Logger } from '../log/index.ts';
import { countUncaughtError } from '../metrics/index.ts';
import { isStoreError } from '../store/index.ts';
import type { Queue } from './queue.ts';

/** A request line longer than this is refused and the connection closed. */
export const controlLineMax = 1024 * 1024;

/** Where the server listens and the CLI connects: `<dataDir>/ctl`. */
export function controlSocketPath(dataDir: string): string {
  return join(dataDir, 'ctl');
}

/** A refused request: its text goes back to the client as the error. */
export class ControlError extends Error {
  override name = 'ControlError';
}

// --- Wire format ---

/** A request: `{"op":"queue.list","args":{...}}` on one line; args may be left out when the op takes none. */
const request = z.strictObject({ op: z.string(), args: z.unknown().optional() });

/** A response: one line, `{"ok":true,"result":...}` or `{"ok":false,"error":"text"}`. */
const response = z.union([z.object({ ok: z.literal(true), result: z.unknown().optional() }), z.object({ ok: z.literal(false), error: z.string() })]); // not strict: a newer server may add fields
export type ControlResponse = z.infer<typeof response>;

/** A value as it crosses the socket: JSON, with dates as ISO 8601 strings (Date.toJSON). */
export type Wire<T> = T extends Date ? string : T extends ReadonlyArray<infer U> ? Array<Wire<U>> : T extends object ? { [K in keyof T]: Wire<T[K]> } : T;

const entryId = z.int().positive(); // a queue entry (recipient) id
const time = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)); // ISO 8601 with Z or an offset; to ms since epoch

/** The filter criteria shared by list, hold, release, schedule, fail and drop (src/queue/filter.ts). */
const selection = {
  ids: z.array(entryId).optional(),
  account: z.string().optional(),
  from: z.string().optional(), // substring of MAIL FROM, case-insensitive
  to: z.string().optional(), // substring of the recipient address (a domain works too)
  submittedBefore: time.optional(),
  submittedAfter: time.optional(),
  nextAttemptBefore: time.optional(),
  nextAttemptAfter: time.optional(),
};
const held = { held: z.boolean().optional() };
const filter = z.strictObject({ ...selection, ...held });
const destructive = z.strictObject({ ...selection, ...held, all: z.boolean().optional() }); // all: true to act on the whole queue
const byId = z.strictObject({ id: entryId });

/** A hold rule's domain: empty (any), else normalized to its A-label as the queue stores recipient domains. */
/** A hold rule's domain: empty (any) or its A-label, as the queue keeps recipient domains. */
export const ruleDomain = z.string().trim().max(253).transform((s, ctx) => {
  if (s === '') return '';
  const d = normalizeDomain(s);
  if ('error' in d) {
    ctx.addIssue({ code: 'custom', message: d.error });
    return z.NEVER;
  }
  return d.ascii;
});
const address = z.string().refine((s) => /^.+@[^\s@]+$/.test(s), 'not an email address (localpart@domain)');

/** Refuses fail and drop without any criterion unless all: true, so that a slip cannot empty the queue. */
function selected<T extends { all?: boolean | undefined }>(a: T, what: string): Omit<T, 'all'> {
  const { all, ...f } = a;
  if (all !== true && Object.values(f).every((v) => v === undefined)) throw new ControlError(`refusing to ${what} every queue entry: give a filter, or all: true`);
  return f;
}

function op<S extends z.ZodType, R>(args: S, run: (q: Queue, a: z.output<S>) => Promise<R>, changes = false) {
  return {
    args,
    run,
    changes, // logged as an administrative change
    async handle(q: Queue, raw: unknown): Promise<R> {
      const p = args.safeParse(raw);
      if (!p.success) throw new ControlError(`bad args: ${p.error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ')}`);
      return run(q, p.data);
    },
  };
}

/** The ops: name, argument schema, the queue operation. Results are the Queue's, as JSON. */
const ops = {
  'queue.list': op(filter, (q, a) => q.list(a)),
  'queue.hold': op(z.strictObject(selection), (q, a) => q.hold(a), true),
  'queue.release': op(z.strictObject(selection), (q, a) => q.release(a), true),
  'queue.schedule': op(
    z.strictObject({ ...selection, ...held, at: time.optional(), moveMs: z.int().optional() }).refine((a) => a.at === undefined || a.moveMs === undefined, 'give at or moveMs, not both'),
    (q, { at, moveMs, ...f }) => q.schedule(f, { ...(at !== undefined ? { at: new Date(at) } : {}), ...(moveMs !== undefined ? { moveMs } : {}) }),
    true,
  ),
  'queue.fail': op(destructive, (q, a) => q.fail(selected(a, 'fail')), true),
  'queue.drop': op(destructive, (q, a) => q.drop(selected(a, 'drop')), true),
  'queue.dump': op(byId, async (q, { id }) => {
    const data = await q.dump(id);
    if (!data) throw new ControlError(`no queue entry ${id}`);
    return data.toString('base64');
  }),
  'queue.attempts': op(byId, (q, { id }) => q.attempts(id)),
  'queue.retired': op(
    z.strictObject({ ids: z.array(entryId).optional(), account: z.string().optional(), from: z.string().optional(), to: z.string().optional(), success: z.boolean().optional(), retiredAfter: time.optional(), fromid: z.string().optional() }),
    (q, a) => q.retired(a),
  ),
  'queue.holdrules.list': op(z.strictObject({}), (q) => q.holdRules()),
  'queue.holdrules.add': op(
    z.strictObject({ account: z.string().default(''), senderDomain: ruleDomain.default(''), recipientDomain: ruleDomain.default('') }),
    (q, a) => q.addHoldRule(a),
    true,
  ),
  'queue.holdrules.rm': op(z.strictObject({ id: z.int().positive() }), (q, { id }) => q.removeHoldRule(id), true),
  'queue.suppress.list': op(z.strictObject({ account: z.string().optional() }), (q, { account }) => q.suppressions(account)),
  'queue.suppress.add': op(
    z.strictObject({ account: z.string().min(1), address, reason: z.string().min(1).optional() }),
    (q, { account, address, reason }) => q.addSuppression(account, address, reason),
    true,
  ),
  'queue.suppress.rm': op(z.strictObject({ account: z.string().min(1), address }), (q, { account, address }) => q.removeSuppression(account, address), true),
};

export type ControlOp = keyof typeof ops;
/** The args an op takes, as sent (dates as ISO strings). */
export type ControlArgs<O extends ControlOp> = z.input<(typeof ops)[O]['args']>;
/** An op's result, as received. */
export type ControlResult<O extends ControlOp> = Wire<Awaited<ReturnType<(typeof ops)[O]['run']>>>;
export const controlOps = Object.keys(ops) as ControlOp[];

function isOp(name: string): name is ControlOp {
  return Object.hasOwn(ops, name);
}

// --- Server ---

/** Splits a byte stream into lines (without LF); a line over `max` bytes sets `overflow`. */
class Lines {
  #parts: Buffer[] = [];
  #size = 0;
  readonly max: number;
  overflow = false;
  constructor(max: number) {
    this.max = max;
  }

  /** The lines the chunk completes, up to an overlong one. */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      if (this.#size + nl - start > this.max) {
        this.overflow = true;
        return out;
      }
      this.#parts.push(chunk.subarray(start, nl));
      out.push(Buffer.concat(this.#parts).toString('utf8'));
      this.#parts = [];
      this.#size = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.#parts.push(chunk.subarray(start));
      this.#size += chunk.length - start;
      if (this.#size > this.max) this.overflow = true;
    }
    return out;
  }
}

export interface ControlOptions {
  path: string; // the socket, normally controlSocketPath(dataDir)
  queue: Queue;
  log?: Logger;
  /** `mailcove stop`: the op 'stop' calls this (the server then shuts down gracefully). */
  onStop?: () => void;
}

export interface RunningControl {
  /** Stops listening, closes open connections and removes the socket file. */
  close(): Promise<void>;
}

/** Listens on the control socket; a stale socket file (no server answers it) is replaced. */
export async function startControl(o: ControlOptions): Promise<RunningControl> {
  const log = o.log ?? logger('control');
  checkPathLength(o.path);
  await removeStale(o.path);
  const connections = new Set<Socket>();
  const server = createServer((sock) => {
    connections.add(sock);
    sock.on('close', () => connections.delete(sock));
    void serve(sock, o.queue, log, o.onStop);
  });
  await listenPrivate(server, o.path);
  log.info({ path: o.path }, 'control socket listening');
  return {
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const c of connections) c.destroy();
      await closed; // libuv removes the socket file when the listener closes
    },
  };
}

/** Answers the requests of one connection, one at a time, in order. */
async function serve(sock: Socket, queue: Queue, log: Logger, onStop: (() => void) | undefined): Promise<void> {
  const lines = new Lines(controlLineMax);
  const send = (r: ControlResponse) => new Promise<void>((resolve) => sock.write(JSON.stringify(r) + '\n', () => resolve())); // waits for the flush: backpressure per response
  let refused = false;
  try {
    for await (const chunk of sock as AsyncIterable<Buffer>) {
      if (refused) continue; // what follows an overlong line is read and dropped, so the client reads the refusal instead of a reset
      for (const line of lines.push(chunk)) if (line.trim() !== '') await send(await answer(line, queue, log, onStop));
      if (lines.overflow) {
        log.info('control request line too long; closing the connection');
        refused = true;
        sock.setTimeout(10_000, () => sock.destroy());
        sock.end(JSON.stringify({ ok: false, error: `request line longer than ${controlLineMax} bytes; closing the connection` } satisfies ControlResponse) + '\n');
      }
    }
  } catch (e) {
    log.debug({ err: e }, 'control connection ended with an error');
  }
}

async function answer(line: string, queue: Queue, log: Logger, onStop: (() => void) | undefined): Promise<ControlResponse> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, error: 'request is not JSON (one object per line: {"op":"...","args":{...}})' };
  }
  const req = request.safeParse(json);
  if (!req.success) return { ok: false, error: `bad request: ${req.error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ')}` };
  const { op: name, args } = req.data;
  if (name === 'stop' && onStop) {
    log.info('stop requested through the control socket');
    onStop();
    return { ok: true, result: 'stopping' };
  }
  if (!isOp(name)) return { ok: false, error: `unknown op ${JSON.stringify(name)} (known: ${controlOps.join(', ')})` };
  const row = ops[name];
  try {
    const result = await row.handle(queue, args ?? {});
    if (row.changes) log.info({ op: name, args, result }, 'queue changed through the control socket');
    return { ok: true, result };
  } catch (e) {
    if (e instanceof ControlError || isStoreError(e)) return { ok: false, error: e.message };
    countUncaughtError('queue');
    log.error({ err: e, op: name }, 'control request failed');
    return { ok: false, error: `${name}: internal error: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** Unix socket paths are short (sun_path); a long data directory path gets a clear error. */
function checkPathLength(path: string): void {
  const max = process.platform === 'linux' ? 107 : 103;
  if (Buffer.byteLength(path) > max) throw new Error(`control socket path is ${Buffer.byteLength(path)} bytes, longer than a Unix socket path can be (${max}): ${path}`);
}

/** Removes a socket file left by a server that is gone; refuses when a server answers or the file is no socket. */
async function removeStale(path: string): Promise<void> {
  try {
    if (!(await lstat(path)).isSocket()) throw new Error(`${path} exists and is not a socket; not replacing it`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const answers = await new Promise<boolean>((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNREFUSED' || e.code === 'ENOENT' ? resolve(false) : reject(e)));
  });
  if (answers) throw new Error(`another mailcove is running: its control socket ${path} answers`);
  await unlink(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}

/**
 * Listens with the socket file created mode 0600. bind() runs synchronously inside
 * listen(), so a umask of 0177 for that call makes the file private from its first
 * instant: no other user can connect before the chmod. The umask is per process; a file
 * another thread creates in that instant is created private too, never more open.
 */
async function listenPrivate(server: Server, path: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const umask = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
  await chmod(path, 0o600); // also where umask is not honoured for sockets
}

// --- Client ---

/** A connection to the control socket; requests are answered in order. */
export class ControlClient {
  readonly #sock: Socket;
  readonly #lines = new Lines(Number.MAX_SAFE_INTEGER); // responses are bounded by the server (a dump is a whole message)
  readonly #waiting: Array<{ resolve: (r: ControlResponse) => void; reject: (e: Error) => void }> = [];
  #ended: Error | undefined;

  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.on('data', (d: Buffer) => {
      for (const line of this.#lines.push(d)) {
        const w = this.#waiting.shift();
        if (!w) continue;
        try {
          const r = response.safeParse(JSON.parse(line));
          if (r.success) w.resolve(r.data);
          else w.reject(new ControlError(`malformed response from the control socket: ${line.slice(0, 200)}`));
        } catch {
          w.reject(new ControlError(`malformed response from the control socket: ${line.slice(0, 200)}`));
        }
      }
    });
    sock.on('error', () => {}); // 'close' follows and fails what waits
    sock.on('close', () => {
      this.#ended = new ControlError('the server closed the control connection');
      for (const w of this.#waiting.splice(0)) w.reject(this.#ended);
    });
  }

  /** Connects; when no server listens, the error says so in the words an admin needs. */
  static connect(path: string): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const sock = createConnection(path);
      sock.once('connect', () => {
        sock.removeAllListeners('error');
        resolve(new ControlClient(sock));
      });
      sock.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') reject(new ControlError(`is mailcove running? no control socket at ${path}`));
        else if (e.code === 'ECONNREFUSED') reject(new ControlError(`is mailcove running? no server answers the control socket at ${path}`));
        else if (e.code === 'EACCES') reject(new ControlError(`no permission to use the control socket at ${path}: run as the user mailcove runs as`));
        else reject(new ControlError(`connecting to the control socket at ${path}: ${e.message}`));
      });
    });
  }

  /** Sends one raw request line (without LF) and returns the response as it came. */
  send(line: string): Promise<ControlResponse> {
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#sock.write(line + '\n');
    });
  }

  /** Runs an op; a refusal is thrown as a ControlError with the server's text. */
  async request<O extends ControlOp>(op: O, args: ControlArgs<O>): Promise<ControlResult<O>> {
    const r = await this.send(JSON.stringify({ op, args }));
    if (!r.ok) throw new ControlError(r.error);
    return r.result as ControlResult<O>; // the server answers with the op's result type (same table)
  }

  close(): void {
    this.#sock.end();
  }

  /** Calls fn when the server has closed the connection (e.g. after 'stop', when it shuts down). */
  onClose(fn: () => void): void {
    if (this.#sock.closed) fn();
    else this.#sock.once('close', fn);
  }
}

/** One request on a fresh connection: what the CLI does. */
export async function controlRequest<O extends ControlOp>(path: string, op: O, args: ControlArgs<O>): Promise<ControlResult<O>> {
  const c = await ControlClient.connect(path);
  try {
    return await c.request(op, args);
  } finally {
    c.close();
  }
}
