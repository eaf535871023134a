// IMAP benchmark: `mailcove localserve` (its own process) against Debian's Dovecot 2.3 (a
// private instance: its own config, loopback port, Maildir under the temp directory,
// passwd-file user with a plain password, no auth cache, no TLS), the same workloads on both:
//   a. mixed: 20 concurrent clients for N seconds, each looping over SELECT, FETCH (FLAGS,
//      BODYSTRUCTURE, BODY[]), STORE, SEARCH, APPEND and short IDLEs on a 1 000-message
//      mailbox (2-40 KiB, plain, alternative and with attachments): ops/s, p50/p99 latency
//      overall and per operation;
//   b. FETCH 1:* (UID FLAGS) on a 100 000-message mailbox: the first SELECT, then the FETCH
//      five times in one session. Mailcove's mailbox is filled through the store API before
//      localserve starts, Dovecot's by writing Maildir files (it indexes them at that SELECT);
//   c. memory per idle connection: server RSS and PSS before and after 5 000 connections
//      (AUTHENTICATE CRAM-MD5, SELECT INBOX, IDLE), summed over all Dovecot processes (one
//      imap process per connection, its default); PSS divides shared pages among processes,
//      so it is the fair figure for Dovecot. Neither side limits connections per IP here
//      (localserve sets no limit; Dovecot gets mail_max_userip_connections = 0).
// Each part runs on a freshly started server. The client is a minimal raw IMAP client
// (imapflow's parsing would cost more CPU than the servers on this 2-core VM and blur the
// ratio). Run:
//   npx node bench/imap.ts [--seconds 20] [--parts a,b,c] [--servers mailcove,dovecot]
//                          [--messages 100000] [--idle 5000] [--clients 20] [--keep]
// Dovecot needs `apt-get install dovecot-imapd` (a bench-only peer, like Postfix for
// bench/smtp.ts; stop the system instance Debian starts); without it that half is skipped
// with a note. Part c needs `ulimit -n` above twice the connection count. --keep leaves the
// temp directory (dovecot.log, data). Not part of npm test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { createHmac } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile, chmod, readFile, readdir } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freeBasePort } from '../test/ports.ts';
import { openStore } from '../src/store/index.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    parts: { type: 'string', default: 'a,b,c' },
    servers: { type: 'string', default: 'mailcove,dovecot' },
    messages: { type: 'string', default: '100000' },
    idle: { type: 'string', default: '5000' },
    clients: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false }, // keep the temp directory (logs, data)
  },
});
const seconds = Number(args.seconds);
const parts = new Set(args.parts.split(','));
const servers = new Set(args.servers.split(','));
const bigCount = Number(args.messages);
const idleCount = Number(args.idle);
const clients = Number(args.clients);
const mixedCount = 1000; // messages in the mixed workload's mailbox

// --- a minimal IMAP client: commands with tags, pipelining, literals in responses, continuations

interface Reply { status: string; text: string; untagged: number; lines: string[]; literalBytes: number }
interface Pending { tag: string; collect: boolean; lines: string[]; untagged: number; literalBytes: number; resolve: (r: Reply) => void; reject: (e: Error) => void }

const crlf = Buffer.from('\r\n');

class ImapClient {
  #socket: Socket;
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  #literal = 0; // bytes of a literal still to skip
  #line = ''; // response line so far (literals replaced by {n})
  #lineLiteral = 0;
  #pending: Pending[] = [];
  #continuations: Array<{ tag: string; resolve: (line: string) => void }> = []; // '+' goes to the oldest; a tagged reply or a close ends its own
  #greeting: ((line: string) => void) | undefined;
  #seq = 0;
  #closed: Error | undefined;
  capabilities = new Set<string>();
  exists = 0;

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.#data(d));
    const fail = (e: Error) => {
      this.#closed ??= e;
      for (const p of this.#pending.splice(0)) p.reject(e);
      for (const c of this.#continuations.splice(0)) c.resolve(`* ${e.message}`);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static async open(port: number): Promise<ImapClient> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const c = new ImapClient(socket);
    const greeting = await new Promise<string>((resolve, reject) => {
      c.#greeting = resolve;
      socket.once('close', () => reject(new Error('closed before greeting')));
    });
    if (!/^\* (OK|PREAUTH)/i.test(greeting)) throw new Error(`greeting: ${greeting}`);
    await c.capability();
    return c;
  }

  #data(d: Buffer): void {
    this.#buf = this.#pos < this.#buf.length ? Buffer.concat([this.#buf.subarray(this.#pos), d]) : d;
    this.#pos = 0;
    const buf = this.#buf;
    for (;;) {
      if (this.#literal > 0) {
        const n = Math.min(this.#literal, buf.length - this.#pos);
        this.#pos += n;
        this.#literal -= n;
        if (this.#literal > 0) return;
      }
      const i = buf.indexOf(crlf, this.#pos);
      if (i < 0) return;
      const seg = buf.toString('latin1', this.#pos, i);
      this.#pos = i + 2;
      const m = /\{(\d+)\+?\}$/.exec(seg);
      this.#line += seg;
      if (m) {
        this.#literal = Number(m[1]);
        this.#lineLiteral += this.#literal;
        continue;
      }
      const line = this.#line;
      const lit = this.#lineLiteral;
      this.#line = '';
      this.#lineLiteral = 0;
      this.#response(line, lit);
    }
  }

  #response(line: string, literalBytes: number): void {
    if (this.#greeting) {
      const g = this.#greeting;
      this.#greeting = undefined;
      g(line);
      return;
    }
    if (line.startsWith('+')) {
      this.#continuations.shift()?.resolve(line);
      return;
    }
    if (line.startsWith('* ')) {
      const e = /^\* (\d+) EXISTS/i.exec(line);
      if (e) this.exists = Number(e[1]);
      else if (/^\* CAPABILITY /i.test(line)) this.capabilities = new Set(line.slice(13).toUpperCase().split(' '));
      const p = this.#pending[0];
      if (p) {
        p.untagged++;
        p.literalBytes += literalBytes;
        if (p.collect) p.lines.push(line);
      }
      return;
    }
    const sp = line.indexOf(' ');
    const tag = line.slice(0, sp);
    const k = this.#pending.findIndex((p) => p.tag === tag);
    if (k < 0) return;
    const [p] = this.#pending.splice(k, 1);
    const c = this.#continuations.findIndex((w) => w.tag === tag);
    if (c >= 0) this.#continuations.splice(c, 1)[0]!.resolve(line); // a tagged reply instead of '+'
    const rest = line.slice(sp + 1);
    const sp2 = rest.indexOf(' ');
    const status = (sp2 < 0 ? rest : rest.slice(0, sp2)).toUpperCase();
    const text = sp2 < 0 ? '' : rest.slice(sp2 + 1);
    const code = /^\[CAPABILITY ([^\]]*)\]/i.exec(text);
    if (status === 'OK' && code) this.capabilities = new Set(code[1]!.toUpperCase().split(' '));
    p!.resolve({ status, text, untagged: p!.untagged, lines: p!.lines, literalBytes: p!.literalBytes });
  }

  #start(collect: boolean): { tag: string; done: Promise<Reply> } {
    if (this.#closed) throw this.#closed;
    const tag = `T${++this.#seq}`;
    const done = new Promise<Reply>((resolve, reject) => this.#pending.push({ tag, collect, lines: [], untagged: 0, literalBytes: 0, resolve, reject }));
    done.catch(() => undefined); // a close rejects every pending command; whoever awaits it later still sees the error
    return { tag, done };
  }

  #continuation(tag: string): Promise<string> {
    return new Promise((resolve) => this.#continuations.push({ tag, resolve }));
  }

  /** Sends one command line and resolves with its tagged reply (NO/BAD included). */
  command(text: string, collect = false): Promise<Reply> {
    const { tag, done } = this.#start(collect);
    this.#socket.write(`${tag} ${text}\r\n`);
    return done;
  }

  /** Like command, but rejects unless the reply is OK. */
  async ok(text: string, collect = false): Promise<Reply> {
    const r = await this.command(text, collect);
    if (r.status !== 'OK') throw new Error(`${text.slice(0, 60)}: ${r.status} ${r.text}`);
    return r;
  }

  async capability(): Promise<void> {
    await this.ok('CAPABILITY');
  }

  login(user: string, pass: string): Promise<Reply> {
    return this.ok(`LOGIN ${quote(user)} ${quote(pass)}`);
  }

  /** AUTHENTICATE CRAM-MD5 (RFC 2195): cheap for both servers, so opening thousands of connections measures connections, not password hashing. */
  async cramMD5(user: string, pass: string): Promise<Reply> {
    const { tag, done } = this.#start(false);
    const cont = this.#continuation(tag);
    this.#socket.write(`${tag} AUTHENTICATE CRAM-MD5\r\n`);
    const line = await cont;
    if (!line.startsWith('+')) throw new Error(`AUTHENTICATE CRAM-MD5: ${line}`);
    const challenge = Buffer.from(line.slice(1).trim(), 'base64').toString('latin1');
    const digest = createHmac('md5', pass).update(challenge, 'latin1').digest('hex');
    this.#socket.write(`${Buffer.from(`${user} ${digest}`).toString('base64')}\r\n`);
    const r = await done;
    if (r.status !== 'OK') throw new Error(`AUTHENTICATE CRAM-MD5: ${r.status} ${r.text}`);
    return r;
  }

  /** APPEND with a non-synchronizing literal when the server has LITERAL+ (so appends pipeline), else waiting for the continuation. */
  append(mailbox: string, message: Buffer, flags: string[] = []): Promise<Reply> {
    const plus = this.capabilities.has('LITERAL+');
    const { tag, done } = this.#start(false);
    const head = `${tag} APPEND ${quote(mailbox)}${flags.length ? ` (${flags.join(' ')})` : ''} {${message.length}${plus ? '+' : ''}}\r\n`;
    if (plus) {
      this.#socket.write(head);
      this.#socket.write(message);
      this.#socket.write(crlf);
      return done;
    }
    const cont = this.#continuation(tag);
    this.#socket.write(head);
    return cont.then((line) => {
      if (!line.startsWith('+')) return done;
      this.#socket.write(message);
      this.#socket.write(crlf);
      return done;
    });
  }

  /** IDLE: resolves once the server sent its continuation; call the returned function to send DONE. */
  async idle(): Promise<() => Promise<Reply>> {
    const { tag, done } = this.#start(false);
    const cont = this.#continuation(tag);
    this.#socket.write(`${tag} IDLE\r\n`);
    const first = await Promise.race([cont, done.then((r) => `${r.status} ${r.text}`)]);
    if (!first.startsWith('+')) throw new Error(`IDLE: ${first}`);
    return () => {
      this.#socket.write('DONE\r\n');
      return done;
    };
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  destroy(): void {
    this.#closed ??= new Error('destroyed');
    this.#socket.destroy();
  }
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

// --- test messages: deterministic, the same bytes for both servers

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const words = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip ex ea commodo consequat'.split(' ');

function text(r: () => number, bytes: number): string {
  const lines: string[] = [];
  let n = 0;
  while (n < bytes) {
    const ws: string[] = [];
    while (ws.join(' ').length < 70) ws.push(words[Math.floor(r() * words.length)]!);
    const l = ws.join(' ');
    lines.push(l);
    n += l.length + 2;
  }
  return lines.join('\r\n') + '\r\n';
}

function base64Lines(r: () => number, bytes: number): string {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = Math.floor(r() * 256);
  return b.toString('base64').replace(/.{76}/g, '$&\r\n') + '\r\n';
}

/** Message i of a mailbox: plain text, multipart/alternative, or multipart/mixed with an attachment, 2-40 KiB. */
function message(i: number): Buffer {
  const r = rng(i + 1);
  const kind = i % 3;
  const day = 1 + (i % 28);
  const head = [
    `Date: ${['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'][i % 7]}, ${day} Mar 2025 10:${String(i % 60).padStart(2, '0')}:00 +0000`,
    `From: User ${i % 50} <user${i % 50}@example.com>`,
    `To: Mailcove <mailcove@localhost>`,
    `Subject: topic ${i % 100} message ${i}`,
    `Message-ID: <bench-${i}@example.com>`,
    'MIME-Version: 1.0',
  ];
  if (kind === 0) return Buffer.from([...head, 'Content-Type: text/plain; charset=utf-8', '', text(r, 2000 + Math.floor(r() * 6000))].join('\r\n'));
  if (kind === 1) {
    const t = text(r, 2000 + Math.floor(r() * 4000));
    return Buffer.from([...head, 'Content-Type: multipart/alternative; boundary="b1"', '', '--b1', 'Content-Type: text/plain; charset=utf-8', '', t, '--b1', 'Content-Type: text/html; charset=utf-8', '', `<html><body><p>${t}</p></body></html>`, '--b1--', ''].join('\r\n'));
  }
  return Buffer.from([...head, 'Content-Type: multipart/mixed; boundary="b2"', '', '--b2', 'Content-Type: text/plain; charset=utf-8', '', text(r, 1000 + Math.floor(r() * 2000)), '--b2', 'Content-Type: application/octet-stream; name="data.bin"', 'Content-Disposition: attachment; filename="data.bin"', 'Content-Transfer-Encoding: base64', '', base64Lines(r, 15000 + Math.floor(r() * 15000)), '--b2--', ''].join('\r\n'));
}

/** Small messages of the 100 000-message mailbox. */
function smallMessage(i: number): Buffer {
  return Buffer.from(`Date: Mon, 3 Mar 2025 10:00:00 +0000\r\nFrom: <user${i % 50}@example.com>\r\nTo: <mailcove@localhost>\r\nSubject: small ${i}\r\nMessage-ID: <small-${i}@example.com>\r\n\r\n${text(rng(i), 400)}`);
}

// --- figures

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const ms = (n: number) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms` : '-');
const ratio = (m: number | undefined, d: number | undefined) => (m !== undefined && d !== undefined && Number.isFinite(m) && Number.isFinite(d) && d > 0 ? (m / d).toFixed(2) : '-');

// --- servers

interface Server {
  name: 'mailcove' | 'dovecot';
  port: number;
  user: string;
  pass: string;
  /** Server processes whose memory counts. */
  pids(): Promise<number[]>;
  stop(): Promise<void>;
}

async function waitPort(port: number, tries = 200): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const hard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return exited.finally(() => clearTimeout(hard));
}

/** `mailcove localserve --dir DIR` in its own process; resolves once IMAP answers, or undefined with a note when it does not. */
async function startMailcove(dir: string): Promise<Server | undefined> {
  const base = await freeBasePort([25, 81, 143, 465, 587, 993]);
  const bin = fileURLToPath(new URL('../bin/mailcove', import.meta.url));
  const child = spawn(bin, ['localserve', '--dir', dir, '--base-port', String(base)], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, MAILCOVE_LOG_LEVEL: 'warn' } });
  const exited = new Promise<false>((r) => child.once('exit', () => r(false)));
  if (!(await Promise.race([waitPort(base + 25), exited]))) {
    await stopChild(child);
    throw new Error('mailcove localserve did not start (no SMTP listener)');
  }
  if (!(await waitPort(base + 143, 50))) {
    await stopChild(child);
    console.log(`mailcove   IMAP not answering on 127.0.0.1:${base + 143} although localserve runs (IMAP not in localserve yet?); skipped`);
    return undefined;
  }
  return {
    name: 'mailcove',
    port: base + 143,
    user: 'mailcove', // src/cli/localserve.ts localserveAccount
    pass: 'mailcovemailcove',
    pids: async () => [child.pid!], // bin/mailcove execs node: the child is the server
    stop: () => stopChild(child),
  };
}

function haveDovecot(): boolean {
  return spawnSync('sh', ['-c', 'command -v dovecot']).status === 0;
}

/** A private Dovecot: config, run, state and mail under ROOT; loopback port; passwd-file user with a plain password; no TLS. */
async function dovecotSetup(root: string): Promise<{ mail: string; uid: number; gid: number }> {
  const me = userInfo();
  // Dovecot refuses UID 0 for mail: as root the mail belongs to nobody, as anyone else to that user.
  const uid = me.uid === 0 ? 65534 : me.uid;
  const gid = me.uid === 0 ? 65534 : me.gid;
  for (const d of ['run', 'state', 'mail', 'home']) await mkdir(join(root, d), { recursive: true });
  await chmod(dirname(root), 0o755); // Dovecot's auth and mail processes (other users when run as root) must reach their files
  await chmod(root, 0o755);
  if (uid !== me.uid) spawnSync('chown', [`${uid}:${gid}`, join(root, 'mail'), join(root, 'home')]);
  await writeFile(join(root, 'passwd'), `bench:{PLAIN}benchpass:${uid}:${gid}::${root}/home/bench\n`);
  return { mail: join(root, 'mail', 'bench'), uid, gid };
}

async function dovecotConfig(root: string, port: number): Promise<void> {
  const me = userInfo();
  const lines = [
    `base_dir = ${root}/run`, `state_dir = ${root}/state`, `log_path = ${root}/dovecot.log`,
    'protocols = imap', 'listen = 127.0.0.1', 'ssl = no', 'disable_plaintext_auth = no', 'auth_mechanisms = plain login cram-md5',
    'auth_cache_size = 0', 'first_valid_uid = 1', `mail_location = maildir:${root}/mail/%u`,
    'mail_max_userip_connections = 0', // no per-user/IP limit (Mailcove localserve has none either)
    'default_process_limit = 500', 'default_client_limit = 20000', 'default_vsz_limit = 1G',
    ...(me.uid === 0 ? [] : [`default_internal_user = ${me.username}`, `default_login_user = ${me.username}`]),
    'passdb {', '  driver = passwd-file', `  args = scheme=PLAIN username_format=%u ${root}/passwd`, '}',
    'userdb {', '  driver = passwd-file', `  args = username_format=%u ${root}/passwd`, '}',
    'service imap-login {', '  chroot =', '  process_limit = 2000', '  inet_listener imap {', '    address = 127.0.0.1', `    port = ${port}`, '  }', '  inet_listener imaps {', '    port = 0', '  }', '}',
    'service imap {', '  process_limit = 8000', '}',
  ];
  await writeFile(join(root, 'dovecot.conf'), lines.join('\n') + '\n');
}

async function startDovecot(root: string): Promise<Server> {
  const port = await freeBasePort([0]);
  await dovecotConfig(root, port);
  const child = spawn('dovecot', ['-F', '-c', join(root, 'dovecot.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<false>((r) => child.once('exit', () => r(false)));
  if (!(await Promise.race([waitPort(port), exited]))) {
    await stopChild(child);
    throw new Error(`dovecot did not start; see ${root}/dovecot.log`);
  }
  return {
    name: 'dovecot',
    port,
    user: 'bench',
    pass: 'benchpass',
    pids: async () => descendants(child.pid!),
    stop: () => stopChild(child),
  };
}

/** A process and all its descendants (Dovecot: master, auth, login and one imap process per connection). */
async function descendants(root: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const e of await readdir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = await readFile(`/proc/${e}/stat`, 'utf8').catch(() => '');
    const m = /\) \S+ (\d+)/.exec(stat);
    if (!m) continue;
    const ppid = Number(m[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** Summed RSS and PSS in KiB (PSS shares pages between processes: fair for Dovecot's many processes). */
async function memory(pids: number[]): Promise<{ rss: number; pss: number; processes: number }> {
  let rss = 0;
  let pss = 0;
  let processes = 0;
  for (const pid of pids) {
    const t = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
    const r = /^Rss:\s+(\d+)/m.exec(t);
    const p = /^Pss:\s+(\d+)/m.exec(t);
    if (!r || !p) continue;
    rss += Number(r[1]);
    pss += Number(p[1]);
    processes++;
  }
  return { rss, pss, processes };
}

// --- populating mailboxes

/** APPENDs messages 0..n-1 to a mailbox over `conns` connections, pipelined (LITERAL+). */
async function appendAll(s: Server, mailbox: string, n: number, make: (i: number) => Buffer, conns = 8): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: conns }, async () => {
    const c = await ImapClient.open(s.port);
    await c.login(s.user, s.pass);
    const window: Array<Promise<Reply>> = [];
    while (next < n) {
      const i = next++;
      window.push(c.append(mailbox, make(i), i % 3 === 0 ? ['\\Seen'] : []));
      if (window.length >= 16) {
        const r = await window.shift()!;
        if (r.status !== 'OK') throw new Error(`APPEND: ${r.text}`);
      }
    }
    for (const r of await Promise.all(window)) if (r.status !== 'OK') throw new Error(`APPEND: ${r.text}`);
    await c.command('LOGOUT');
    c.destroy();
  }));
}

async function prepareMixed(s: Server): Promise<void> {
  const c = await ImapClient.open(s.port);
  await c.login(s.user, s.pass);
  await c.ok('CREATE bench');
  c.destroy();
  await appendAll(s, 'bench', mixedCount, message);
}

/** Mailcove's big mailbox through the store API before localserve starts (faster than APPEND: no protocol round trips). */
async function prepareMailcoveBig(dir: string): Promise<number> {
  const t0 = performance.now();
  const store = await openStore(join(dir, 'data'));
  try {
    await store.createAccount('mailcove');
    const account = await store.openAccount('mailcove');
    await account.createMailbox('big');
    let next = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < bigCount) {
        const i = next++;
        await account.append('big', { data: smallMessage(i), flags: i % 3 === 0 ? ['\\Seen'] : [], internalDate: new Date(1_740_000_000_000 + i * 1000) });
      }
    }));
    await account.close();
  } finally {
    await store.close();
  }
  return (performance.now() - t0) / 1000;
}

/** Dovecot's big mailbox as Maildir files written directly (Dovecot indexes them at the first SELECT). */
async function prepareDovecotBig(mail: string, uid: number, gid: number): Promise<number> {
  const t0 = performance.now();
  const box = join(mail, '.big');
  for (const d of ['cur', 'new', 'tmp']) await mkdir(join(box, d), { recursive: true });
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < bigCount) {
      const i = next++;
      const m = smallMessage(i);
      await writeFile(join(box, 'cur', `${1_740_000_000 + i}.M${i}P1.bench,S=${m.length}:2,${i % 3 === 0 ? 'S' : ''}`), m);
    }
  }));
  await writeFile(join(mail, 'subscriptions'), 'big\n');
  if (uid !== userInfo().uid) spawnSync('chown', ['-R', `${uid}:${gid}`, mail]);
  return (performance.now() - t0) / 1000;
}

// --- a. mixed workload

type Op = 'select' | 'fetch flags' | 'fetch bodystructure' | 'fetch body[]' | 'store' | 'search' | 'append' | 'idle';
const weights: Array<[Op, number]> = [['select', 5], ['fetch flags', 20], ['fetch bodystructure', 15], ['fetch body[]', 15], ['store', 15], ['search', 10], ['append', 10], ['idle', 10]];
const totalWeight = weights.reduce((a, [, w]) => a + w, 0);
const appendPool = Array.from({ length: 100 }, (_, i) => message(mixedCount + i)); // made before the clock starts
const searches = ['UNSEEN', 'SUBJECT "topic 17"', 'FROM "user5@"', 'LARGER 20000', 'SINCE 10-Mar-2025 FLAGGED', 'OR SEEN FLAGGED'];

interface MixedResult { ops: number; seconds: number; latencies: number[]; byOp: Map<Op, number[]>; errors: Map<Op, { count: number; sample: string }>; disconnected: number }

async function mixed(s: Server): Promise<MixedResult> {
  const byOp = new Map<Op, number[]>(weights.map(([op]) => [op, []]));
  const errors = new Map<Op, { count: number; sample: string }>();
  const error = (op: Op, why: string) => {
    const e = errors.get(op) ?? { count: 0, sample: why.slice(0, 100) };
    e.count++;
    errors.set(op, e);
  };
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  let disconnected = 0;
  await Promise.all(Array.from({ length: clients }, async (_, k) => {
    const r = rng(1000 + k);
    const c = await ImapClient.open(s.port);
    await c.login(s.user, s.pass);
    await c.ok('SELECT bench');
    let appended = 0;
    const msg = (n: number) => 1 + Math.floor(r() * (mixedCount - n)); // within the first mixedCount messages: always valid
    while (performance.now() < deadline) {
      let x = r() * totalWeight;
      let op: Op = 'select';
      for (const [o, w] of weights) if ((x -= w) < 0) { op = o; break; }
      const t0 = performance.now();
      let reply: Reply;
      try {
        switch (op) {
          case 'select': reply = await c.command('SELECT bench'); break;
          case 'fetch flags': { const a = msg(100); reply = await c.command(`FETCH ${a}:${a + 99} (UID FLAGS)`); if (reply.status === 'OK' && reply.untagged < 100) error(op, `${reply.untagged} responses for 100 messages`); break; }
          case 'fetch bodystructure': { const a = msg(10); reply = await c.command(`FETCH ${a}:${a + 9} (UID BODYSTRUCTURE)`); break; }
          case 'fetch body[]': reply = await c.command(`FETCH ${msg(1)} (UID BODY.PEEK[])`); if (reply.status === 'OK' && reply.literalBytes < 1000) error(op, `${reply.literalBytes} bytes`); break;
          case 'store': reply = await c.command(`STORE ${msg(1)} ${r() < 0.5 ? '+' : '-'}FLAGS (\\Flagged)`); break;
          case 'search': reply = await c.command(`SEARCH ${searches[Math.floor(r() * searches.length)]}`); break;
          case 'append': reply = await c.append('bench', appendPool[(k * 7 + appended++) % appendPool.length]!); break;
          case 'idle': {
            const done = await c.idle();
            const held = performance.now();
            await new Promise((res) => setTimeout(res, 20)); // a short IDLE; the hold is not counted in the latency
            const t1 = performance.now();
            reply = await done();
            byOp.get(op)!.push(held - t0 + (performance.now() - t1));
            if (reply.status !== 'OK') error(op, reply.text);
            continue;
          }
        }
      } catch (e) {
        error(op, (e as Error).message);
        if (c.closed) {
          disconnected++; // e.g. BYE after too many BAD replies (commands the server lacks)
          return;
        }
        continue;
      }
      if (reply.status === 'OK') byOp.get(op)!.push(performance.now() - t0);
      else error(op, `${reply.status} ${reply.text}`);
    }
    await c.command('LOGOUT').catch(() => undefined);
    c.destroy();
  }));
  const latencies = [...byOp.values()].flat();
  return { ops: latencies.length, seconds: (performance.now() - started) / 1000, latencies, byOp, errors, disconnected };
}

// --- b. FETCH 1:* (UID FLAGS) on a big mailbox

interface BigResult { select: number; fetches: number[]; responses: number; error?: string }

async function bigFetch(s: Server): Promise<BigResult> {
  const c = await ImapClient.open(s.port);
  try {
    await c.login(s.user, s.pass);
    let t0 = performance.now();
    await c.ok('SELECT big');
    const select = performance.now() - t0;
    if (c.exists !== bigCount) return { select, fetches: [], responses: 0, error: `SELECT big: ${c.exists} EXISTS, expected ${bigCount}` };
    const fetches: number[] = [];
    let responses = 0;
    for (let i = 0; i < 5; i++) {
      t0 = performance.now();
      const r = await c.command('FETCH 1:* (UID FLAGS)');
      if (r.status !== 'OK') return { select, fetches, responses, error: `FETCH: ${r.status} ${r.text}` };
      fetches.push(performance.now() - t0);
      responses = r.untagged;
    }
    await c.command('LOGOUT');
    return { select, fetches, responses };
  } finally {
    c.destroy();
  }
}

// --- c. memory per idle connection

interface IdleResult { before: { rss: number; pss: number; processes: number }; after: { rss: number; pss: number; processes: number }; opened: number; seconds: number; auth: string; error?: string }

async function idleMemory(s: Server): Promise<IdleResult> {
  const pids = async () => memory(await s.pids());
  // Warm up (code paths loaded, pools created) with a few connections, closed again.
  const warm = await Promise.all(Array.from({ length: 20 }, async () => {
    const c = await ImapClient.open(s.port);
    await c.login(s.user, s.pass);
    await c.ok('SELECT INBOX');
    return c;
  }));
  for (const c of warm) {
    await c.command('LOGOUT');
    c.destroy();
  }
  await new Promise((r) => setTimeout(r, 3000));
  const before = await pids();
  const conns: ImapClient[] = [];
  const t0 = performance.now();
  let next = 0;
  let failure: string | undefined;
  let auth = 'CRAM-MD5';
  await Promise.all(Array.from({ length: 50 }, async () => {
    while (next < idleCount && !failure) {
      next++;
      try {
        const c = await ImapClient.open(s.port);
        conns.push(c);
        if (c.capabilities.has('AUTH=CRAM-MD5')) await c.cramMD5(s.user, s.pass);
        else {
          auth = 'LOGIN';
          await c.login(s.user, s.pass);
        }
        await c.ok('SELECT INBOX');
        await c.idle();
      } catch (e) {
        failure ??= `connection ${conns.length}: ${(e as Error).message}`;
      }
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 5000)); // let the server settle (GC, login processes exit)
  const after = await pids();
  for (const c of conns) c.destroy();
  return { before, after, opened: conns.length, seconds, auth, ...(failure ? { error: failure } : {}) };
}

// --- the run

interface SideResults { mixed?: MixedResult; big?: BigResult & { populate: number }; idle?: IdleResult }

function printMixed(name: string, r: MixedResult): void {
  console.log(`${name.padEnd(9)} ${(r.ops / r.seconds).toFixed(0).padStart(6)} ops/s  p50 ${ms(pct(r.latencies, 50))}  p99 ${ms(pct(r.latencies, 99))}  (${r.ops} ops in ${r.seconds.toFixed(1)} s${r.disconnected ? `; ${r.disconnected} of ${clients} clients disconnected early` : ''})`);
  for (const [op, l] of r.byOp) {
    const e = r.errors.get(op);
    console.log(`            ${op.padEnd(20)} ${String(l.length).padStart(7)}  p50 ${ms(pct(l, 50)).padStart(9)}  p99 ${ms(pct(l, 99)).padStart(9)}${e ? `  ${e.count} errors: ${e.sample}` : ''}`);
  }
}

function printBig(name: string, r: BigResult & { populate: number }): void {
  const rest = r.fetches.slice(1);
  console.log(`${name.padEnd(9)} populate ${r.populate.toFixed(1)} s  first SELECT ${ms(r.select)}  FETCH first ${ms(r.fetches[0] ?? NaN)}, median of next ${rest.length} ${ms(pct(rest, 50))}  (${r.responses} responses)${r.error ? `  ERROR ${r.error}` : ''}`);
}

function perConn(r: IdleResult): { rss: number; pss: number } {
  return { rss: (r.after.rss - r.before.rss) / Math.max(1, r.opened), pss: (r.after.pss - r.before.pss) / Math.max(1, r.opened) };
}

function printIdle(name: string, r: IdleResult): void {
  const p = perConn(r);
  const mib = (k: number) => `${(k / 1024).toFixed(0)} MiB`;
  console.log(`${name.padEnd(9)} ${r.opened} IDLE connections (${r.auth}) opened in ${r.seconds.toFixed(1)} s; RSS ${mib(r.before.rss)} -> ${mib(r.after.rss)}, PSS ${mib(r.before.pss)} -> ${mib(r.after.pss)} (${r.before.processes} -> ${r.after.processes} processes); per connection RSS ${p.rss.toFixed(1)} KiB, PSS ${p.pss.toFixed(1)} KiB${r.error ? `  ERROR ${r.error}` : ''}`);
}

async function side(name: 'mailcove' | 'dovecot', dir: string): Promise<SideResults | undefined> {
  const out: SideResults = {};
  const root = join(dir, name);
  let dv: Awaited<ReturnType<typeof dovecotSetup>> | undefined;
  if (name === 'dovecot') {
    if (!haveDovecot()) {
      console.log('dovecot   not installed (apt-get install dovecot-imapd); no ratio');
      return undefined;
    }
    dv = await dovecotSetup(root);
  }
  const start = () => (name === 'mailcove' ? startMailcove(root) : startDovecot(root));
  let populate = 0;
  if (parts.has('b')) populate = name === 'mailcove' ? await prepareMailcoveBig(root) : await prepareDovecotBig(dv!.mail, dv!.uid, dv!.gid);
  for (const part of ['a', 'b', 'c'] as const) {
    if (!parts.has(part)) continue;
    const s = await start();
    if (!s) return undefined;
    try {
      if (part === 'a') {
        await prepareMixed(s);
        out.mixed = await mixed(s);
        printMixed(name, out.mixed);
      } else if (part === 'b') {
        out.big = { ...(await bigFetch(s)), populate };
        printBig(name, out.big);
      } else {
        out.idle = await idleMemory(s);
        printIdle(name, out.idle);
      }
    } catch (e) {
      console.log(`${name.padEnd(9)} part ${part} failed: ${(e as Error).message}`);
    } finally {
      await s.stop();
    }
  }
  return out;
}

const fdLimit = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim());
if (parts.has('c') && fdLimit < idleCount * 2 + 1000) {
  console.log(`ulimit -n is ${fdLimit}: part c needs ${idleCount * 2 + 1000} (bench client and server sockets); run with ulimit -n 20000 or --idle ${Math.floor((fdLimit - 1000) / 2)}`);
  parts.delete('c');
}

const dir = await mkdtemp(join(tmpdir(), 'mailcove-bench-imap-'));
try {
  console.log(`IMAP: a. mixed, ${clients} clients, ${seconds} s; b. FETCH 1:* (UID FLAGS), ${bigCount} messages; c. ${idleCount} IDLE connections (parts: ${[...parts].join(',')})`);
  const m = servers.has('mailcove') ? await side('mailcove', dir) : undefined;
  const d = servers.has('dovecot') ? await side('dovecot', dir) : undefined;
  if (m && d) {
    console.log('ratios mailcove/dovecot:');
    if (m.mixed && d.mixed) {
      const rate = (r: MixedResult) => r.ops / r.seconds;
      const errs = (r: MixedResult) => [...r.errors.values()].reduce((a, e) => a + e.count, 0);
      const note = errs(m.mixed) || errs(d.mixed) ? `; not comparable: errors mailcove ${errs(m.mixed)}, dovecot ${errs(d.mixed)}` : '';
      console.log(`  a. ops/s ${ratio(rate(m.mixed), rate(d.mixed))} (higher is better for mailcove), p50 ${ratio(pct(m.mixed.latencies, 50), pct(d.mixed.latencies, 50))}, p99 ${ratio(pct(m.mixed.latencies, 99), pct(d.mixed.latencies, 99))} (lower is better)${note}`);
    }
    if (m.big && d.big) console.log(`  b. first SELECT ${ratio(m.big.select, d.big.select)}, FETCH first ${ratio(m.big.fetches[0], d.big.fetches[0])}, median ${ratio(pct(m.big.fetches.slice(1), 50), pct(d.big.fetches.slice(1), 50))} (lower is better)`);
    if (m.idle && d.idle) console.log(`  c. memory per IDLE connection: RSS ${ratio(perConn(m.idle).rss, perConn(d.idle).rss)}, PSS ${ratio(perConn(m.idle).pss, perConn(d.idle).pss)} (lower is better)`);
  }
} finally {
  if (args.keep) console.log(`kept ${dir}`);
  else await rm(dir, { recursive: true, force: true });
}
