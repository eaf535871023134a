// SMTP delivery benchmark: 10 KiB messages over 20 concurrent connections into
// `mailcove localserve` (its own process), then the same load against Debian's Postfix
// (a private instance on loopback delivering to Maildir with the virtual agent, so both
// write and fsync every message), and the ratio. Latency is from sending the end of DATA
// to the 250. Run: `node bench/smtp.ts [seconds]` (Postfix part needs root and `apt-get
// install postfix`; it is skipped with a note when postfix is missing). Not part of npm test.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { mkdtemp, mkdir, rm, writeFile, chmod, chown } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeBasePort, waitPort } from '../test/ports.ts';

const seconds = Number(process.argv[2] ?? 10);
const connections = 20;
const body = `${'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.'.padEnd(76, ' ')}\r\n`.repeat(Math.ceil(10240 / 78));
const message = `From: <bench@bench.example>\r\nTo: <mailcove@localhost>\r\nSubject: bench\r\n\r\n${body}`.slice(0, 10240 - 5) + '\r\n.\r\n';

interface Result { messages: number; seconds: number; latencies: number[]; errors: number }

/** A line-oriented SMTP client that reads one reply at a time. */
class Client {
  #socket: Socket;
  #buf = '';
  #waiting: ((line: string) => void) | undefined;
  constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.#buf += d;
      this.#pump();
    });
  }
  #pump(): void {
    for (;;) {
      const m = /^(\d{3}) [^\n]*\n/m.exec(this.#buf);
      if (!m || !this.#waiting) return;
      this.#buf = this.#buf.slice(m.index + m[0].length);
      const w = this.#waiting;
      this.#waiting = undefined;
      w(m[1]!);
    }
  }
  reply(): Promise<string> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#pump();
    });
  }
  write(s: string): void {
    this.#socket.write(s, 'latin1');
  }
  end(): void {
    this.#socket.end();
  }
}

async function load(port: number, rcpt: string): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, async () => {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise((r) => socket.once('connect', r));
    const c = new Client(socket);
    await c.reply();
    c.write('EHLO bench.example\r\n');
    await c.reply();
    while (Date.now() < deadline) {
      c.write(`MAIL FROM:<bench@bench.example>\r\nRCPT TO:<${rcpt}>\r\nDATA\r\n`); // RFC 2920 pipelining
      const codes = [await c.reply(), await c.reply(), await c.reply()];
      if (codes[2] !== '354') {
        errors++;
        c.write('RSET\r\n');
        await c.reply();
        continue;
      }
      const t0 = performance.now();
      c.write(message);
      const code = await c.reply();
      if (code === '250') latencies.push(performance.now() - t0);
      else errors++;
    }
    c.write('QUIT\r\n');
    await c.reply();
    c.end();
  }));
  return { messages: latencies.length, seconds: (performance.now() - started) / 1000, latencies, errors };
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

function report(name: string, r: Result): number {
  const rate = r.messages / r.seconds;
  console.log(`${name.padEnd(10)} ${rate.toFixed(0).padStart(6)} msg/s  p50 ${pct(r.latencies, 50).toFixed(1)} ms  p99 ${pct(r.latencies, 99).toFixed(1)} ms  (${r.messages} messages, ${r.errors} errors, ${r.seconds.toFixed(1)} s)`);
  return rate;
}


async function mailcove(dir: string): Promise<number> {
  const base = await freeBasePort([25, 81, 465, 587]);
  const bin = fileURLToPath(new URL('../bin/mailcove', import.meta.url));
  const child: ChildProcess = spawn(bin, ['localserve', '--dir', join(dir, 'mailcove'), '--base-port', String(base)], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, MAILCOVE_LOG_LEVEL: 'warn' } });
  try {
    await waitPort(base + 25);
    return report('mailcove', await load(base + 25, 'mailcove@localhost'));
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

/** A private Postfix instance: its own config, queue and data directories, loopback port, Maildir delivery via virtual(8). */
async function postfix(dir: string): Promise<number | undefined> {
  if (spawnSync('sh', ['-c', 'command -v postfix']).status !== 0) {
    console.log('postfix    not installed (apt-get install postfix); no ratio');
    return undefined;
  }
  const port = await freeBasePort([0]);
  const root = join(dir, 'postfix');
  const conf = join(root, 'etc');
  for (const d of [conf, join(root, 'queue'), join(root, 'data'), join(root, 'mail')]) await mkdir(d, { recursive: true });
  await chown(join(root, 'mail'), 65534, 65534);
  const pf = spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' });
  await chown(join(root, 'data'), Number(pf.stdout.trim()), 0); // postfix refuses a data directory it does not own
  await chmod(dir, 0o755); // postfix's daemons (user postfix) must reach their directories
  await chmod(root, 0o755);
  await writeFile(join(conf, 'main.cf'), [
    'compatibility_level = 3.6', `queue_directory = ${root}/queue`, `data_directory = ${root}/data`, 'inet_interfaces = 127.0.0.1', 'inet_protocols = ipv4',
    'myhostname = bench.localhost', 'mydestination =', 'virtual_mailbox_domains = localhost', `virtual_mailbox_base = ${root}/mail`,
    'virtual_mailbox_maps = static:bench/', 'virtual_uid_maps = static:65534', 'virtual_gid_maps = static:65534', 'virtual_minimum_uid = 100',
    'smtpd_recipient_restrictions = permit_mynetworks, reject', 'mynetworks = 127.0.0.0/8', 'smtpd_client_connection_count_limit = 0', 'smtpd_client_connection_rate_limit = 0',
    'default_process_limit = 200', 'smtputf8_enable = yes', 'message_size_limit = 104857600',
  ].join('\n') + '\n');
  const master = spawnSync('sh', ['-c', 'cat /etc/postfix/master.cf']).stdout.toString().replace(/^smtp\s+inet.*$/m, `127.0.0.1:${port} inet n - n - - smtpd`);
  await writeFile(join(conf, 'master.cf'), master);
  const env = { ...process.env, MAIL_CONFIG: conf };
  const start = spawnSync('postfix', ['-c', conf, 'start'], { env, encoding: 'utf8' });
  if (start.status !== 0) {
    console.log(`postfix    failed to start: ${start.stdout.trim()} ${start.stderr.trim()}`);
    return undefined;
  }
  try {
    await waitPort(port);
    return report('postfix', await load(port, 'bench@localhost'));
  } finally {
    spawnSync('postfix', ['-c', conf, 'stop'], { env });
  }
}

const dir = await mkdtemp(join(tmpdir(), 'mailcove-bench-smtp-'));
try {
  console.log(`SMTP delivery: 10 KiB messages, ${connections} connections, ${seconds} s each`);
  const m = await mailcove(dir);
  const p = await postfix(dir);
  if (p !== undefined) console.log(`ratio      mailcove/postfix = ${(m / p).toFixed(2)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
