// Outbound queue benchmark: messages/s from the Mailcove queue to Postfix's smtp-sink (a
// discard-everything SMTP server) on loopback, then Postfix itself delivering the same
// load from its own queue to smtp-sink, and the ratio. Two scenarios, one recipient per message:
//   a. N messages to recipients in one domain;
//   b. the same N spread round-robin over 100 recipient domains.
// Every message is enqueued first (store.queue.addData from 20 concurrent writers for
// Mailcove; 20 SMTP connections into a private Postfix that puts each message on hold);
// the enqueue rate is printed but not counted. Then delivery is timed: Mailcove from
// Queue.start until no recipient is left (every one retired and its attempt committed),
// Postfix from releasing the hold queue (postsuper -H, postqueue -f) until its queue
// directories are empty. The queue runs in this process, started as localserve starts it
// (without localserve's local delivery); it logs at info level to a file in the temp directory. DNS is a MemoryResolver: each domain's MX
// is mx.<domain> at 127.0.0.1, and every MX connection goes to smtp-sink's port (the
// queue's test-only mxPort). Connections: the sessions smtp-sink counted (its -c
// counters) and the most open at once (sampled from /proc/net/tcp every 20 ms).
// The Postfix reference differs where noted: Postfix 3.7 (Debian), relayhost
// [127.0.0.1]:SINK for a; for b a transport map sends domain i to [127.0.0.1]:SINK+i, one
// smtp-sink per port, so that Postfix queues per domain as Mailcove does (with one relayhost
// every domain would share one Postfix destination). Postfix's smtp processes are capped at
// the queue concurrency (20), its destination concurrency is its default (20 per destination).
// Run:
//   npx node bench/queue.ts [--messages 5000] [--size 10240] [--domains 100]
//                           [--scenarios a,b] [--servers mailcove,postfix]
//                           [--concurrency 20] [--postfix-destination-concurrency 20] [--keep]
// Needs smtp-sink (Debian's postfix package: `apt-get install postfix`); the Postfix half
// also needs root, and is skipped with a note without it. --keep leaves the temp directory (logs, queue, config).
// Not part of npm test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { freeBasePort, waitPort } from '../test/ports.ts';
import { loadConfig } from '../src/config/index.ts';
import { MemoryResolver } from '../src/dns/index.ts';
import { openStore } from '../src/store/index.ts';
import { AccountCache } from '../src/smtpserver/index.ts';
import { Queue } from '../src/queue/index.ts';
import { SmtpClient } from '../src/smtpclient/index.ts';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '5000' },
    size: { type: 'string', default: '10240' }, // bytes per message
    domains: { type: 'string', default: '100' }, // recipient domains in scenario b
    scenarios: { type: 'string', default: 'a,b' },
    servers: { type: 'string', default: 'mailcove,postfix' },
    concurrency: { type: 'string', default: '20' }, // Mailcove static.queue.concurrency; Postfix smtp process limit
    'postfix-destination-concurrency': { type: 'string', default: '20' }, // Postfix default_destination_concurrency_limit (its default: 20)
    keep: { type: 'boolean', default: false },
  },
});
const count = Number(args.messages);
const size = Number(args.size);
const domainCount = Number(args.domains);
const concurrency = Number(args.concurrency);
const postfixDestinationConcurrency = Number(args['postfix-destination-concurrency']);
const scenarios = args.scenarios.split(',').filter((s): s is 'a' | 'b' => s === 'a' || s === 'b');
const servers = new Set(args.servers.split(','));
const writers = 20; // concurrent enqueuers
const sender = 'bench@bench.example';

/** Recipient domain of message i in a scenario: one domain, or round-robin over domainCount. */
function domainOf(scenario: 'a' | 'b', i: number): string {
  return `d${scenario === 'a' ? 0 : i % domainCount}.example`;
}
const recipientOf = (scenario: 'a' | 'b', i: number) => `user${i}@${domainOf(scenario, i)}`;
const domainsOf = (scenario: 'a' | 'b') => (scenario === 'a' ? [domainOf('a', 0)] : Array.from({ length: domainCount }, (_, i) => domainOf('b', i)));

const line = `${'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.'.padEnd(76, ' ')}\r\n`;
/** Message i: a few headers and text lines, exactly `size` bytes, ending in CRLF; no line starts with a dot. */
function message(i: number, rcpt: string): Buffer {
  const head = `From: <${sender}>\r\nTo: <${rcpt}>\r\nSubject: bench ${i}\r\nMessage-ID: <${i}.${Date.now()}@bench.example>\r\nDate: ${new Date().toUTCString()}\r\n\r\n`;
  const body = line.repeat(Math.ceil(Math.max(0, size - head.length) / line.length) + 1);
  return Buffer.from((head + body).slice(0, size - 2) + '\r\n', 'latin1');
}

/** Runs fn for 0..n-1 from `parallel` workers. */
async function inParallel(n: number, parallel: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < n) await fn(next++);
  }));
}

// An interrupted or failed run leaves no smtp-sink behind.
const children = new Set<ChildProcess>();
process.once('exit', () => { for (const c of children) c.kill('SIGTERM'); });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


// --- smtp-sink and the connection counts

interface SinkCounts { sessions: number; messages: number }

/** smtp-sink on 127.0.0.1:port: no dump files (-d/-D not given), running counters (-c) on stdout. */
class Sink {
  readonly port: number;
  readonly #child: ChildProcess;
  #counts: SinkCounts = { sessions: 0, messages: 0 };
  #exited: Promise<void>;

  constructor(port: number, cwd: string) {
    this.port = port;
    const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : []; // smtp-sink refuses to run as root without -u
    this.#child = spawn('smtp-sink', ['-c', ...user, `127.0.0.1:${port}`, '1000'], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    this.#exited = new Promise((r) => this.#child.once('exit', () => r()));
    children.add(this.#child);
    let tail = '';
    this.#child.stdout!.setEncoding('latin1').on('data', (d: string) => {
      // "sess=S quit=Q mesg=M", rewritten in place with CR after each session end, QUIT and "."
      tail = (tail + d).slice(-200);
      const all = [...tail.matchAll(/sess=(\d+) quit=\d+ mesg=(\d+)/g)];
      const last = all.at(-1);
      if (last) this.#counts = { sessions: Number(last[1]), messages: Number(last[2]) };
    });
  }

  static async start(ports: readonly number[], cwd: string): Promise<Sink[]> {
    const sinks = ports.map((p) => new Sink(p, cwd));
    await Promise.all(ports.map((p) => waitPort(p))); // the probe is a session without a message; subtracted in counts()
    return sinks;
  }

  get counts(): SinkCounts {
    return this.#counts;
  }

  async stop(): Promise<void> {
    this.#child.kill('SIGTERM');
    await this.#exited;
  }
}

/** Sessions and messages over several sinks, without each one's port probe. */
function sinkCounts(sinks: readonly Sink[]): SinkCounts {
  return sinks.reduce((t, s) => ({ sessions: t.sessions + s.counts.sessions - 1, messages: t.messages + s.counts.messages }), { sessions: 0, messages: 0 });
}

/** Samples established TCP connections to the given local ports (the sinks' side) from /proc/net/tcp; keeps the maximum. */
class ConnectionSampler {
  max = 0;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  readonly #ports: Set<number>;
  constructor(ports: readonly number[]) {
    this.#ports = new Set(ports);
  }
  start(): void {
    this.#timer = setInterval(() => void this.#sample(), 20);
  }
  async #sample(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const text = await readFile('/proc/net/tcp', 'latin1');
      let n = 0;
      for (const row of text.split('\n').slice(1)) {
        const f = row.trim().split(/\s+/); // sl local rem st ...
        if (f[3] === '01' && this.#ports.has(parseInt(f[1]?.split(':')[1] ?? '', 16))) n++;
      }
      this.max = Math.max(this.max, n);
    } catch {
      // no /proc: the maximum stays unknown (0)
    } finally {
      this.#busy = false;
    }
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

// --- results

interface Result {
  enqueueSeconds: number;
  seconds: number; // delivery
  delivered: number; // recipients delivered (Mailcove: retired with success; Postfix: smtp-sink's message count)
  failed: number;
  sessions: number; // SMTP sessions smtp-sink saw
  maxConnections: number; // most connections open at once
  cpu?: number; // this process's CPU time / wall time during delivery (Mailcove only)
}

function report(name: string, r: Result): number {
  const rate = r.delivered / r.seconds;
  console.log(`${name.padEnd(12)} enqueue ${(count / r.enqueueSeconds).toFixed(0).padStart(5)} msg/s (${r.enqueueSeconds.toFixed(1)} s)  delivery ${rate.toFixed(0).padStart(5)} msg/s (${r.delivered} in ${r.seconds.toFixed(2)} s, ${r.failed} failed)  ${r.sessions} SMTP sessions, at most ${r.maxConnections} at once${r.cpu !== undefined ? `, CPU ${(r.cpu * 100).toFixed(0)}%` : ''}`);
  return rate;
}

// --- Mailcove

async function mailcove(scenario: 'a' | 'b', dir: string): Promise<Result> {
  const root = join(dir, `mailcove-${scenario}`);
  await mkdir(root, { recursive: true });
  await writeFile(join(root, 'mailcove.conf'), `dataDir: data\nhostname: bench.example\nresolver: none\nqueue:\n  concurrency: ${concurrency}\nlisteners: {}\n`);
  await writeFile(join(root, 'domains.conf'), `domains:\n  bench.example: {}\naccounts:\n  bench:\n    domain: bench.example\n    destinations:\n      ${sender}: {}\n`);
  const config = await loadConfig(join(root, 'mailcove.conf'));
  const store = await openStore(config.paths.dataDir);
  await store.createAccount('bench');
  const accounts = new AccountCache(store);
  const resolver = new MemoryResolver();
  for (const d of domainsOf(scenario)) resolver.add(d, 'MX', [{ preference: 10, exchange: `mx.${d}` }]).add(`mx.${d}`, 'A', ['127.0.0.1']);
  const log = pino({ level: 'info', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: join(root, 'queue.log'), sync: true })).child({ module: 'queue' });
  const port = await freeBasePort([0]);
  const sinks = await Sink.start([port], root);
  const sampler = new ConnectionSampler([port]);
  let queue: Queue | undefined;
  try {
    const t0 = performance.now();
    await inParallel(count, writers, async (i) => {
      const rcpt = recipientOf(scenario, i);
      await store.queue.addData({
        account: 'bench', mailFrom: sender, smtputf8: false, body: '7BIT', requireTLS: null, extra: {},
        recipients: [{ address: rcpt, domain: domainOf(scenario, i) }], nextAttempt: new Date(), data: message(i, rcpt),
      });
    });
    const enqueueSeconds = (performance.now() - t0) / 1000;

    sampler.start();
    const cpu0 = process.cpuUsage();
    const t1 = performance.now();
    queue = Queue.start({ store, static: config.static, configDir: root, domains: () => config.domains, resolver, accounts, testing: { mxPort: port }, log });
    let stuck = '';
    for (;;) {
      const next = await store.queue.nextDue();
      if (next === undefined) break; // every recipient retired
      if (next > Date.now() + 60_000) {
        stuck = `recipients left for a retry at ${new Date(next).toISOString()}`;
        break;
      }
      await sleep(20);
    }
    const seconds = (performance.now() - t1) / 1000;
    const cpu = process.cpuUsage(cpu0);
    sampler.stop();
    await queue.stop();
    queue = undefined;
    if (stuck) console.log(`mailcove ${scenario}   ${stuck}; see ${join(root, 'queue.log')}`);
    const retired = await store.queue.listRetired();
    const delivered = retired.filter((r) => r.success).length;
    await sleep(100); // the last QUIT's counters
    return { enqueueSeconds, seconds, delivered, failed: count - delivered, sessions: sinkCounts(sinks).sessions, maxConnections: sampler.max, cpu: (cpu.user + cpu.system) / 1e6 / seconds };
  } finally {
    sampler.stop();
    await queue?.stop();
    await Promise.all(sinks.map((s) => s.stop()));
    await accounts.close();
    await store.close();
    log.flush();
  }
}

// --- Postfix

/** Sends messages first..count-1 (every `step`-th) over one connection with our SMTP client (pipelined, RFC 2920). */
async function inject(port: number, scenario: 'a' | 'b', first: number, step: number): Promise<void> {
  const c = await SmtpClient.connect({ host: '127.0.0.1', port, timeoutMs: 60_000 });
  await c.hello('bench.example');
  for (let i = first; i < count; i += step) {
    const rcpt = recipientOf(scenario, i);
    const r = await c.send({ mailFrom: sender, recipients: [{ address: rcpt }] }, message(i, rcpt));
    if (r.data?.code !== 250) throw new Error(`postfix: ${rcpt}: ${r.rejected[0]?.reply.code ?? r.data?.code}`);
  }
  await c.quit();
}

/** Files below a directory (Postfix's queue directories are hashed into subdirectories). */
async function countFiles(path: string): Promise<number> {
  const entries = await readdir(path, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).length;
}

/**
 * A private Postfix instance (its own config, queue, data and log under the temp directory;
 * loopback smtpd; no chroot) whose smtpd puts every message on hold, so that the whole load
 * is queued before delivery starts.
 */
async function postfix(scenario: 'a' | 'b', dir: string): Promise<Result | string> {
  if (spawnSync('sh', ['-c', 'command -v postfix && command -v postsuper']).status !== 0) return 'postfix not installed (apt-get install postfix)';
  if (process.getuid?.() !== 0) return 'a private Postfix instance needs root';
  const root = join(dir, `postfix-${scenario}`);
  const conf = join(root, 'etc');
  const queueDir = join(root, 'queue');
  for (const d of [conf, queueDir, join(root, 'data')]) await mkdir(d, { recursive: true });
  const pf = spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' });
  await chown(join(root, 'data'), Number(pf.stdout.trim()), 0); // postfix refuses a data directory it does not own
  await chmod(dir, 0o755); // postfix's daemons (user postfix) must reach their directories
  await chmod(root, 0o755);
  const domains = domainsOf(scenario);
  const smtpdPort = await freeBasePort([0]);
  const sinkBase = await freeBasePort(domains.map((_, i) => i));
  const sinkPorts = domains.map((_, i) => sinkBase + i);
  const routing = scenario === 'a'
    ? [`relayhost = [127.0.0.1]:${sinkBase}`]
    : [`transport_maps = texthash:${conf}/transport`];
  await writeFile(join(conf, 'transport'), domains.map((d, i) => `${d} smtp:[127.0.0.1]:${sinkPorts[i]}\n`).join(''));
  await writeFile(join(conf, 'main.cf'), [
    'compatibility_level = 3.6', `queue_directory = ${queueDir}`, `data_directory = ${root}/data`, `maillog_file = ${root}/maillog`, `maillog_file_prefixes = ${root}`,
    'inet_interfaces = 127.0.0.1', 'inet_protocols = ipv4', 'myhostname = bench.example', 'mydestination =', 'mynetworks = 127.0.0.0/8',
    'smtpd_recipient_restrictions = permit_mynetworks, reject', 'smtpd_data_restrictions = check_client_access static:HOLD', // everything waits in the hold queue
    'smtpd_client_connection_count_limit = 0', 'smtpd_client_connection_rate_limit = 0', 'smtpd_peername_lookup = no',
    'smtp_dns_support_level = disabled', 'smtp_tls_security_level = none', 'queue_run_delay = 3600s', 'message_size_limit = 104857600',
    `default_destination_concurrency_limit = ${postfixDestinationConcurrency}`, ...routing,
  ].join('\n') + '\n');
  // Debian's master.cf: smtpd on our port, no chroot (no copies of /etc needed), smtp processes capped at the queue's concurrency.
  const master = (await readFile('/etc/postfix/master.cf', 'utf8')).split('\n').map((l) => {
    const f = l.split(/\s+/);
    if (l.startsWith('#') || /^\s/.test(l) || f.length < 8) return l;
    if (f[0] === 'smtp' && f[1] === 'inet') return `127.0.0.1:${smtpdPort} inet n - n - - smtpd`;
    f[4] = 'n';
    if (f[0] === 'smtp' && f[1] === 'unix') f[6] = String(concurrency);
    return f.join(' ');
  }).join('\n');
  await writeFile(join(conf, 'master.cf'), master);
  const env = { ...process.env, MAIL_CONFIG: conf };
  const sinks = await Sink.start(sinkPorts, root);
  const sampler = new ConnectionSampler(sinkPorts);
  const run = (cmd: string, ...a: string[]) => {
    const r = spawnSync(cmd, ['-c', conf, ...a], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${a.join(' ')}: ${r.stdout.trim()} ${r.stderr.trim()}`);
  };
  try {
    run('postfix', 'start');
    await waitPort(smtpdPort);
    const t0 = performance.now();
    await Promise.all(Array.from({ length: writers }, (_, w) => inject(smtpdPort, scenario, w, writers)));
    const enqueueSeconds = (performance.now() - t0) / 1000;
    const held = await countFiles(join(queueDir, 'hold'));
    if (held !== count) return `expected ${count} messages on hold, found ${held}; see ${root}/maillog`;

    sampler.start();
    const t1 = performance.now();
    run('postsuper', '-H', 'ALL'); // hold → deferred
    run('postqueue', '-f'); // deliver the deferred queue now
    const deadline = Date.now() + 600_000;
    for (;;) {
      const left = (await Promise.all(['maildrop', 'incoming', 'active', 'deferred', 'hold'].map((q) => countFiles(join(queueDir, q))))).reduce((a, b) => a + b, 0);
      if (left === 0) break;
      if (Date.now() > deadline) return `${left} messages still queued after 10 minutes; see ${root}/maillog`;
      await sleep(20);
    }
    const seconds = (performance.now() - t1) / 1000;
    sampler.stop();
    run('postfix', 'stop'); // closes cached connections, so that smtp-sink counts their sessions
    await sleep(300);
    const c = sinkCounts(sinks);
    return { enqueueSeconds, seconds, delivered: c.messages, failed: count - c.messages, sessions: c.sessions, maxConnections: sampler.max };
  } finally {
    sampler.stop();
    spawnSync('postfix', ['-c', conf, 'stop'], { env });
    await Promise.all(sinks.map((s) => s.stop()));
  }
}

// --- main

if (spawnSync('sh', ['-c', 'command -v smtp-sink']).status !== 0) {
  console.log('smtp-sink not found (apt-get install postfix)');
  process.exit(1);
}
const dir = await mkdtemp(join(tmpdir(), 'mailcove-bench-queue-'));
try {
  console.log(`Queue delivery to smtp-sink: ${count} messages of ${size} bytes, one recipient each; queue concurrency ${concurrency}`);
  for (const s of scenarios) {
    console.log(s === 'a' ? `a. ${count} messages to one domain` : `b. ${count} messages over ${domainCount} domains`);
    let m: number | undefined;
    let p: number | undefined;
    if (servers.has('mailcove')) m = report(`mailcove ${s}`, await mailcove(s, dir));
    if (servers.has('postfix')) {
      const r = await postfix(s, dir);
      if (typeof r === 'string') console.log(`postfix ${s}    skipped: ${r}`);
      else p = report(`postfix ${s}`, r);
    }
    if (m !== undefined && p !== undefined) console.log(`ratio ${s}      mailcove/postfix = ${(m / p).toFixed(2)}`);
  }
} finally {
  if (args.keep) console.log(`kept ${dir}`);
  else await rm(dir, { recursive: true, force: true });
}
