// A private Postfix (Debian's postfix package) as an SMTP peer for interop tests: its own
// config, queue and data directories under a temp dir, smtpd on one loopback port, logging
// to a file (maillog_file, Postfix ≥ 3.4), no DNS. Two modes: a receiver that accepts mail
// for any recipient and keeps it on hold so tests can read the envelope Postfix recorded
// (DSN parameters, SMTPUTF8) and the message; or a relay that passes everything on to one
// host. Needs root (Postfix's daemons drop to the postfix user). Test-only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeBasePort } from './ports.ts';

export interface PostfixOptions {
  /** Relay mode: every message goes on to this host (relayhost = [host]:port), over STARTTLS when offered. Absent: receiver mode. */
  relay?: { host: string; port: number };
  /** Offer STARTTLS on its smtpd with this certificate (smtpd_tls_security_level = may); meant for the receiver. */
  tls?: { certPEM: string; keyPEM: string };
  /** smtputf8_enable (RFC 6531); default true. */
  smtputf8?: boolean;
  /** myhostname: banner, EHLO, Received "by", and the domain Postfix delivers to its own Maildir; default "postfix.test". */
  name?: string;
}

/** A recipient as Postfix recorded it from RCPT TO. */
export interface QueuedRecipient {
  address: string;
  notify: string | undefined; // RFC 3461 §4.1 NOTIFY, canonical order: 'NEVER' or a subset of 'SUCCESS,FAILURE,DELAY'
  orcpt: string | undefined; // RFC 3461 §4.2 ORCPT, decoded 'type;address' (Postfix undoes xtext); without ORCPT Postfix records 'rfc822;' + address
  reason: string | undefined; // why delivery was deferred, when it was
}

/** A message in Postfix's queue, from postqueue -j and postcat. */
export interface QueuedMessage {
  id: string; // Postfix queue id
  queue: string; // 'hold', 'incoming', 'active', 'deferred', ...
  sender: string; // MAIL FROM, '' for the null reverse-path
  recipients: QueuedRecipient[]; // not yet delivered
  envid: string | undefined; // RFC 3461 §4.4 ENVID, decoded
  ret: 'FULL' | 'HDRS' | undefined; // RFC 3461 §4.3
  smtputf8: boolean; // MAIL FROM had SMTPUTF8 (RFC 6531 §3.4)
  body: '7BIT' | '8BITMIME' | undefined; // MAIL FROM BODY= (RFC 6152), when given
  message: Buffer; // header and body as queued, Postfix's Received on top; lines end in CRLF
}

export interface PostfixPeer {
  port: number; // smtpd on 127.0.0.1
  dir: string; // everything of this instance: etc/ (main.cf, master.cf), queue/, data/, mail/, maillog
  name: string; // myhostname
  /** Stops master and every daemon, then removes the directory. */
  stop(): Promise<void>;
  /** The maillog so far. */
  log(): string;
  /** Waits until a log line matches, and returns it; the error carries the log. */
  waitLog(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Messages in the queue; in receiver mode every accepted message waits here, on hold. */
  queued(): Promise<QueuedMessage[]>;
  /** Receiver: lets the held messages go on to local delivery (received()). */
  release(): Promise<void>;
  /**
   * Messages delivered to the Maildir by virtual(8), oldest first, lines ending in CRLF. virtual(8)
   * prepends Return-Path, X-Original-To and Delivered-To. Relay mode: what Postfix sends to
   * addresses at its own name (bounces and success notices); receiver: released messages.
   */
  received(): Promise<Buffer[]>;
}

const binaries = ['postfix', 'postcat', 'postqueue', 'postsuper'];
const path = `${process.env['PATH'] ?? ''}:/usr/sbin:/sbin`; // Debian installs Postfix's commands in /usr/sbin
const nobody = 65534; // owner of the Maildir (virtual_uid_maps)
// Postfix rereads a table or config file modified within the last second until it is older (dict_load_file's
// "file is being written" guard, ~2 s for a fresh main.cf): ours are dated in the past.
const aged = new Date(Date.now() - 60_000);

/** A test's `skip` option: false when Postfix can run here, else why not. In CI (CI=true) that is an error instead. */
export function postfixMissing(): false | string {
  const missing = binaries.filter((b) => spawnSync('sh', ['-c', `command -v ${b}`], { env: { ...process.env, PATH: path } }).status !== 0);
  const why = missing.length ? `${missing.join(', ')} not installed (Debian package postfix; scripts/install-test-peers.sh)` : process.getuid?.() !== 0 ? 'Postfix needs root to start' : false;
  if (why && process.env['CI'] === 'true') throw new Error(why);
  return why;
}

/** Runs a Postfix command to its end; stdout as bytes (message content), without blocking the event loop (servers under test run in this process). */
function exec(cmd: string, args: string[], timeoutMs = 30_000): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATH: path } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => err.push(Buffer.from(String(e))));
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process from /proc/PID/stat (proc(5)): its name, state and process group; undefined once it is gone. */
function procStat(pid: number | string): { comm: string; state: string; pgrp: number } | undefined {
  let stat: string;
  try { stat = readFileSync(`/proc/${pid}/stat`, 'latin1'); } catch { return undefined; }
  const [state = '', , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // "pid (comm) state ppid pgrp ..."
  return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), state, pgrp: Number(pgrp) };
}

/**
 * Live processes of a process group (master leads its own: it calls setsid). From /proc,
 * because kill(-pgid, 0) also counts zombies, and the daemonized master's parent (PID 1)
 * may take its time to reap them.
 */
function processGroup(pgid: number): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).filter((e) => {
    const p = procStat(e);
    return p !== undefined && p.pgrp === pgid && p.state !== 'Z';
  }).map(Number);
}

/** Process groups of running instances: killed if the test process exits without stop(). */
const running = new Map<string, () => number | undefined>();
process.on('exit', () => {
  for (const [dir, pid] of running) {
    const p = pid();
    if (p !== undefined) for (const member of processGroup(p)) try { process.kill(member, 'SIGKILL'); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
});

function mainCf(dir: string, name: string, o: PostfixOptions): string {
  const relay = o.relay;
  return [
    'compatibility_level = 3.6',
    `queue_directory = ${dir}/queue`,
    `data_directory = ${dir}/data`,
    `maillog_file = ${dir}/maillog`, // Postfix ≥ 3.4: postlogd writes it, no syslog needed
    `maillog_file_prefixes = ${dir}`,
    `syslog_name = postfix-${name}`,
    `myhostname = ${name}`, // set, so Postfix never asks the resolver for its own name
    `mydomain = ${name}`,
    'myorigin = $myhostname',
    'mydestination =',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'mynetworks = 127.0.0.0/8',
    'smtp_dns_support_level = disabled', // no DNS: relayhost is a bracketed IP, host lookups go to getaddrinfo (numeric)
    'lmtp_dns_support_level = disabled',
    'smtpd_peername_lookup = no', // no reverse DNS of clients: they log as unknown[127.0.0.1]
    'alias_maps =',
    'alias_database =',
    'append_dot_mydomain = no',
    'biff = no',
    'local_header_rewrite_clients =', // relay what clients send: no added Date, Message-ID or rewritten addresses
    `smtputf8_enable = ${o.smtputf8 === false ? 'no' : 'yes'}`,
    'smtpd_banner = $myhostname ESMTP Postfix',
    'smtpd_relay_restrictions = permit_mynetworks, reject',
    // Receiver: HOLD keeps every message in the queue with its envelope (postcat shows the DSN records).
    ...(relay ? [] : ['smtpd_recipient_restrictions = check_recipient_access static:HOLD']),
    // Local delivery to one Maildir: receiver, every domain (released messages); relay, only its own name (bounces to a sender there).
    `virtual_mailbox_domains = ${relay ? '$myhostname' : 'static:ALL'}`,
    `virtual_mailbox_base = ${dir}/mail`,
    'virtual_mailbox_maps = static:box/',
    `virtual_uid_maps = static:${nobody}`,
    `virtual_gid_maps = static:${nobody}`,
    'virtual_minimum_uid = 100',
    ...(relay ? [
      `relayhost = [${relay.host}]:${relay.port}`,
      'smtp_tls_security_level = may', // STARTTLS when offered, certificate not verified
      'smtp_tls_loglevel = 1', // logs "Untrusted TLS connection established to ..."
      'smtp_connect_timeout = 2s',
    ] : []),
    ...(o.tls ? [
      'smtpd_tls_security_level = may',
      `smtpd_tls_cert_file = ${dir}/etc/cert.pem`,
      `smtpd_tls_key_file = ${dir}/etc/key.pem`,
      'smtpd_tls_loglevel = 1', // logs "Anonymous TLS connection established from ..."
      'smtpd_tls_received_header = yes',
    ] : []),
    // Tests do not wait: no flow-control pauses, error sleeps, connection limits; retries within seconds.
    'in_flow_delay = 0s',
    'smtpd_error_sleep_time = 0s',
    'smtpd_client_connection_count_limit = 0',
    'smtpd_client_connection_rate_limit = 0',
    'queue_run_delay = 1s',
    'minimal_backoff_time = 1s',
    'maximal_backoff_time = 2s',
    '',
  ].join('\n');
}

/**
 * Only the services this setup uses, none chrooted. The smtp client logs its dialogue with
 * the relay (debug_peer_list), so tests can see the parameters Postfix passed on.
 */
function masterCf(port: number, o: PostfixOptions): string {
  const chat = o.relay ? ` -o debug_peer_list=${o.relay.host} -o debug_peer_level=1` : '';
  return [
    `127.0.0.1:${port} inet n - n - - smtpd`,
    'pickup unix n - n 60 1 pickup', // postqueue -f needs it
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'tlsmgr unix - - n 1000? 1 tlsmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'proxywrite unix - - n - 1 proxymap',
    `smtp unix - - n - - smtp${chat}`,
    'relay unix - - n - - smtp',
    'showq unix n - n - - showq', // postqueue -j
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'virtual unix - n n - - virtual',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd', // maillog_file
    '',
  ].join('\n');
}

/** Resolves once smtpd sends its 220 greeting. */
async function waitGreeting(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => { s.destroy(); resolve(false); }, 2000);
      s.once('data', (d: Buffer) => {
        clearTimeout(timer);
        s.end('QUIT\r\n');
        resolve(d.toString('latin1').startsWith('220'));
      });
      s.once('error', () => { clearTimeout(timer); resolve(false); });
    });
    if (ok) return true;
    await sleep(50);
  }
  return false;
}

/** Postfix stores lines without their ends; the wire form has CRLF. */
const crlf = (b: Buffer) => Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');

const notifyBits: Array<[number, string]> = [[1, 'NEVER'], [2, 'SUCCESS'], [4, 'FAILURE'], [8, 'DELAY']]; // Postfix dsn_mask.h

/** The envelope records of `postcat -e`. */
function parseEnvelope(text: string): Omit<QueuedMessage, 'id' | 'queue' | 'message'> {
  const m: Omit<QueuedMessage, 'id' | 'queue' | 'message'> = { sender: '', recipients: [], envid: undefined, ret: undefined, smtputf8: false, body: undefined };
  let notify: string | undefined;
  let orcpt: string | undefined;
  for (const line of text.split('\n')) {
    const [, key, value = ''] = /^([a-z_]+): ?(.*)$/.exec(line) ?? [];
    const [, attr, attrValue = ''] = key === 'named_attribute' ? /^([a-z_]+)=(.*)$/.exec(value) ?? [] : [];
    if (key === 'message_size') m.smtputf8 = ((Number(value.trim().split(/\s+/)[5] ?? 0)) & 1) !== 0; // 6th field: SMTPUTF8 flags, bit 0 "requested"
    else if (key === 'sender') m.sender = value;
    else if (attr === 'envelope_id') m.envid = attrValue;
    else if (attr === 'ret_flags') m.ret = attrValue === '1' ? 'FULL' : attrValue === '2' ? 'HDRS' : undefined;
    else if (attr === 'encoding') m.body = attrValue === '8bit' ? '8BITMIME' : attrValue === '7bit' ? '7BIT' : undefined;
    else if (attr === 'notify_flags') notify = notifyBits.filter(([bit]) => (Number(attrValue) & bit) !== 0).map(([, n]) => n).join(',');
    else if (attr === 'dsn_orig_rcpt') orcpt = attrValue;
    else if (key === 'recipient' || key === 'done_recipient') {
      if (key === 'recipient') m.recipients.push({ address: value, notify, orcpt, reason: undefined });
      notify = undefined;
      orcpt = undefined;
    }
  }
  return m;
}

export async function startPostfix(o: PostfixOptions = {}): Promise<PostfixPeer> {
  const name = o.name ?? 'postfix.test';
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-postfix-'));
  const etc = join(dir, 'etc');
  const logFile = join(dir, 'maillog');
  const postfix = (...args: string[]) => exec('postfix', ['-c', etc, ...args]);
  /** From master.pid, which outlives the master: only while that process is a Postfix master leading its group. */
  const masterPid = (): number | undefined => {
    let pid: number;
    try { pid = Number(readFileSync(join(dir, 'queue', 'pid', 'master.pid'), 'latin1').trim()); } catch { return undefined; }
    const p = procStat(pid);
    return p && p.comm === 'master' && p.pgrp === pid && p.state !== 'Z' ? pid : undefined;
  };
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  running.set(dir, masterPid);

  /** As `postfix stop` (SIGTERM to master, which passes it to its process group), then waits for every daemon, polling instead of postfix-script's 1 s sleeps. */
  const stop = async () => {
    const pid = masterPid();
    if (pid !== undefined) {
      try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
      const deadline = Date.now() + 10_000;
      while (processGroup(pid).length && Date.now() < deadline) await sleep(20);
      for (const p of processGroup(pid)) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
      while (processGroup(pid).length && Date.now() < deadline + 5_000) await sleep(20);
      if (processGroup(pid).length) throw new Error(`postfix in ${dir} did not stop: processes ${processGroup(pid).join(' ')}`);
    }
    running.delete(dir);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await chmod(dir, 0o755); // Postfix's daemons (user postfix) must reach their directories
    await mkdir(etc);
    await mkdir(join(dir, 'queue')); // subdirectories and data/ (owned by postfix) come from `postfix start` (post-install create-missing)
    await mkdir(join(dir, 'mail'));
    await chown(join(dir, 'mail'), nobody, nobody);
    if (o.tls) {
      await writeFile(join(etc, 'cert.pem'), o.tls.certPEM);
      await writeFile(join(etc, 'key.pem'), o.tls.keyPEM, { mode: 0o600 }); // read by smtpd as root, before it drops privileges
    }
    await writeFile(join(etc, 'main.cf'), mainCf(dir, name, o));
    await utimes(join(etc, 'main.cf'), aged, aged);
    let port = 0;
    for (let attempt = 0; ; attempt++) {
      port = await freeBasePort([0]); // Postfix cannot listen on port 0: a free port, and another try if it was taken meanwhile
      await writeFile(join(etc, 'master.cf'), masterCf(port, o));
      await utimes(join(etc, 'master.cf'), aged, aged);
      const r = await postfix('start');
      if (r.status === 0 && await waitGreeting(port, 10_000)) break;
      const inUse = new RegExp(`bind 127\\.0\\.0\\.1 port ${port}: Address already in use`).test(log());
      if (!inUse || attempt === 2) {
        // Postfix writes errors it meets before logging is up (main.cf) only to a terminal: `postfix check` under script(1) shows them.
        const check = await exec('script', ['-qec', `postfix -c '${etc}' check`, '/dev/null']);
        throw new Error(`postfix did not start on 127.0.0.1:${port} (exit ${r.status}): ${r.stdout.toString()}${r.stderr}\n--- postfix check ---\n${check.stdout.toString().trim()}\n--- maillog ---\n${log()}`);
      }
      if (masterPid() !== undefined) await postfix('abort');
    }

    const queued = async (): Promise<QueuedMessage[]> => {
      const list = await exec('postqueue', ['-c', etc, '-j']);
      if (list.status !== 0) throw new Error(`postqueue -j: ${list.stderr}`);
      const out: QueuedMessage[] = [];
      for (const line of list.stdout.toString('utf8').split('\n').filter(Boolean)) {
        const q = JSON.parse(line) as { queue_name: string; queue_id: string; recipients: Array<{ address: string; delay_reason?: string }> };
        const env = await exec('postcat', ['-c', etc, '-e', '-q', q.queue_id]);
        const content = await exec('postcat', ['-c', etc, '-bh', '-q', q.queue_id]);
        if (env.status !== 0 || content.status !== 0) continue; // delivered meanwhile
        const m = parseEnvelope(env.stdout.toString('utf8'));
        for (const r of m.recipients) r.reason = q.recipients.find((x) => x.address === r.address)?.delay_reason;
        out.push({ id: q.queue_id, queue: q.queue_name, ...m, message: crlf(content.stdout) });
      }
      return out;
    };

    return {
      port, dir, name, stop, log, queued,
      async waitLog(re, timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const line = log().split('\n').find((l) => re.test(l));
          if (line !== undefined) return line;
          if (Date.now() > deadline) throw new Error(`no maillog line matching ${re} within ${timeoutMs} ms\n--- maillog ---\n${log()}`);
          await sleep(50);
        }
      },
      async release() {
        const held = await exec('postsuper', ['-c', etc, '-H', 'ALL']); // to the deferred queue...
        const flush = await exec('postqueue', ['-c', etc, '-f']); // ...and tried now
        if (held.status !== 0 || flush.status !== 0) throw new Error(`release: ${held.stderr}${flush.stderr}`);
      },
      async received() {
        const newDir = join(dir, 'mail', 'box', 'new');
        if (!existsSync(newDir)) return [];
        // Maildir names are "seconds.VdevIinodeMmicroseconds.host": ordered by the time of delivery.
        const key = (n: string) => { const [, s = '0', us = '0'] = /^(\d+)\..*M(\d+)\./.exec(n) ?? []; return Number(s) * 1e6 + Number(us); };
        const names = (await readdir(newDir)).sort((a, b) => key(a) - key(b));
        return Promise.all(names.map(async (n) => crlf(await readFile(join(newDir, n)))));
      },
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

