// ACME end to end (issue 7): Debian's pebble test CA on loopback validates our tls-alpn-01
// and http-01 answers, resolving the names through nsd+unbound on loopback (never the
// internet); the certificates are then served by SNI on the IMAP and SMTP TLS listeners.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { acmeHostnames, hostKeySpkiSha256, loadAcme, registeredAccountURL, type AcmeManager } from '../src/acme/index.ts';
import { MemoryResolver } from '../src/dns/index.ts';
import { exposition } from '../src/metrics/index.ts';
import { startHttp, type HttpServers } from '../src/http/index.ts';
import { startImap, type RunningImap } from '../src/imapserver/index.ts';
import { startSmtp, type RunningSmtp } from '../src/smtpserver/index.ts';
import { loadListenerTls, makeSelfSigned } from '../src/tls/index.ts';
import { missingDnsPeers, startDnsServers, type DnsServers } from './dnsservers.ts';
import { freeBasePort, waitPort } from './ports.ts';
import { serverDir, type ServerDir } from './serverdir.ts';
import { waitFor } from './waitfor.ts';

const pebbleBinary = '/usr/bin/pebble';
const missing = [...(existsSync(pebbleBinary) ? [] : ['pebble']), ...missingDnsPeers];
if (missing.length > 0 && process.env['CI'] === 'true') throw new Error(`ACME test peers missing: ${missing.join(', ')} (scripts/install-test-peers.sh)`);
const skip = missing.length > 0 ? `ACME test peers missing (${missing.join(', ')})` : false;

const hostname = 'mail.example.com';
const provider = 'pebble';
const day = 24 * 60 * 60 * 1000;

interface Pebble {
  directoryURL: string;
  caFile: string; // the CA of pebble's own HTTPS (directory and management API)
  root: string; // PEM of the root pebble issues under, from its management API
  httpPort: number; // where pebble validates http-01
  tlsPort: number; // where pebble validates tls-alpn-01
}

let pebble: Pebble;
let pebbleProcess: ChildProcess | undefined;
let pebbleOutput = '';
let dns: DnsServers | undefined;
let workDir: string | undefined;

before(async () => {
  if (skip) return;
  workDir = await mkdtemp(join(tmpdir(), 'mailcove-pebble-'));
  dns = await startDnsServers([{ name: 'example.com', records: ['mail IN A 127.0.0.1', 'autoconfig IN A 127.0.0.1', 'mta-sts IN A 127.0.0.1', 'other IN A 127.0.0.1'] }]);
  const resolver = dns.resolver.servers[0]!;
  const base = await freeBasePort([0, 1, 2, 3]);
  const own = await makeSelfSigned({ names: ['localhost'], ips: ['127.0.0.1'] });
  const caFile = join(workDir, 'pebble.crt.pem');
  await writeFile(caFile, own.certPEM);
  await writeFile(join(workDir, 'pebble.key.pem'), own.keyPEM);
  await writeFile(join(workDir, 'pebble.json'), JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${base}`,
      managementListenAddress: `127.0.0.1:${base + 1}`,
      certificate: caFile,
      privateKey: join(workDir, 'pebble.key.pem'),
      httpPort: base + 2,
      tlsPort: base + 3,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
    },
  }));
  pebbleProcess = spawn(pebbleBinary, ['-config', join(workDir, 'pebble.json'), '-dnsserver', `${resolver.host}:${resolver.port}`], {
    cwd: workDir,
    // No artificial validation delays, real validation, every nonce accepted, no reuse of valid authorizations (each order validates).
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', PEBBLE_VA_NOSLEEP: '1', PEBBLE_VA_ALWAYS_VALID: '0', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  pebbleProcess.stdout?.on('data', (d: Buffer) => { pebbleOutput += d.toString(); });
  pebbleProcess.stderr?.on('data', (d: Buffer) => { pebbleOutput += d.toString(); });
  await Promise.all([waitPort(base), waitPort(base + 1)]).catch((e: unknown) => {
    throw new Error(`pebble did not start: ${String(e)}\n${pebbleOutput}`);
  });
  const root = await httpsText(`https://127.0.0.1:${base + 1}/roots/0`, own.certPEM);
  pebble = { directoryURL: `https://127.0.0.1:${base}/dir`, caFile, root, httpPort: base + 2, tlsPort: base + 3 };
});

after(async () => {
  const p = pebbleProcess;
  if (p && p.exitCode === null && p.signalCode === null) await new Promise<void>((res) => { p.once('exit', () => res()); p.kill('SIGTERM'); });
  await dns?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function httpsText(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode} ${body}`))));
    }).on('error', reject);
  });
}

const domainsText = `domains:
  example.com:
    mtaSts: { policyID: '1', mode: enforce }
accounts:
  mjl:
    domain: example.com
    destinations:
      mjl@example.com: {}
`;

/** A server directory whose listener gets its certificates from pebble, answering one challenge type; with `perDomain` also for autoconfig and mta-sts names. */
function acmeServerDir(challenge: 'tls-alpn-01' | 'http-01', o: { perDomain?: boolean } = {}): Promise<ServerDir> {
  const staticText = `dataDir: data
hostname: ${hostname}
acme:
  ${provider}:
    directoryURL: ${pebble.directoryURL}
    contactEmail: postmaster@example.com
    challengeTypes: [${challenge}]
    directoryCAFile: ${pebble.caFile}
listeners:
  local:
    ips: [127.0.0.1]
    tls: { acme: ${provider} }
    smtp: {}
    imaps: {}
${o.perDomain ? '    autoconfigHTTPS: {}\n    mtastsHTTPS: {}\n' : ''}`;
  return serverDir({ prefix: 'mailcove-acme-', static: staticText, domains: domainsText, password: 'test1234 secret' });
}

interface Running {
  acme: AcmeManager;
  imaps: number; // port
  smtp: number; // port
  /** Stops or starts the challenge listeners (the CA can then not or again validate). */
  challenges: { stop(): Promise<void>; start(): Promise<void> };
  close(): Promise<void>;
}

/**
 * What serve does with ACME: the provider loaded, the challenge listeners (HTTPS speaking ALPN
 * where pebble checks tls-alpn-01, plain HTTP where it checks http-01), IMAP and SMTP.
 */
async function run(sd: ServerDir, o: { now?: () => number } = {}): Promise<Running> {
  const st = sd.config.static;
  const dataDir = sd.config.paths.dataDir;
  const acme = await loadAcme({ provider, config: st.acme[provider]!, dataDir, configDir: sd.dir, names: acmeHostnames(st, sd.domains.current(), provider), pollMinMs: 50, ...(o.now ? { now: o.now } : {}) });
  let web: HttpServers | undefined;
  let imap: RunningImap | undefined;
  let smtp: RunningSmtp | undefined;
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= (async () => {
    await smtp?.close();
    await imap?.close();
    await web?.close();
    await acme.close();
  })());
  try {
    const l = st.listeners['local']!;
    const tls = await loadListenerTls({ tls: l.tls!, hostname, ips: l.ips, configDir: sd.dir, dataDir });
    const challenges = {
      async start() {
        web = await startHttp({ listeners: [
          { ip: '127.0.0.1', port: pebble.tlsPort, tls: tls.serverOptions({ alpn: ['http/1.1'] }), surfaces: [] },
          { ip: '127.0.0.1', port: pebble.httpPort, surfaces: [] },
        ] });
      },
      async stop() {
        await web?.close();
        web = undefined;
      },
    };
    await challenges.start();
    imap = await startImap({ config: sd.config, store: sd.store, domains: sd.domains, ports: { imaps: 0 } });
    smtp = await startSmtp({ config: sd.config, store: sd.store, domains: sd.domains, resolver: new MemoryResolver(), ports: { smtp: 0 } });
    return { acme, imaps: imap.addresses.find((a) => a.service === 'imaps')!.port, smtp: smtp.addresses.find((a) => a.service === 'smtp')!.port, challenges, close };
  } catch (e) {
    await close();
    throw e;
  }
}

interface Served {
  cert: X509Certificate;
}

/** The certificate a TLS client sees once its handshake (chain verified against pebble's root, and the name unless told otherwise) is done. */
async function served(socket: TLSSocket): Promise<Served> {
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => resolve());
    socket.once('error', reject);
  });
  const cert = socket.getPeerX509Certificate();
  assert.ok(cert);
  const r = { cert };
  socket.destroy();
  return r;
}

function imapsCertificate(port: number, servername: string, o: { anyName?: boolean } = {}): Promise<Served> {
  return served(tlsConnect({ host: '127.0.0.1', port, servername, ca: [pebble.root], ...(o.anyName ? { checkServerIdentity: () => undefined } : {}) }));
}

/** SMTP STARTTLS (RFC 3207): greeting, EHLO, STARTTLS, then the handshake on the same connection. */
async function smtpStarttlsCertificate(port: number, servername: string): Promise<Served> {
  const sock: Socket = netConnect({ host: '127.0.0.1', port });
  let buf = '';
  const reply = () => new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /(^|\r\n)(\d{3}) [^\r\n]*\r\n/.exec(buf);
      if (!m) return;
      const text = buf.slice(0, m.index + m[0].length);
      buf = buf.slice(text.length);
      sock.off('data', onData);
      sock.off('error', reject);
      resolve(text);
    };
    const onData = (d: Buffer) => { buf += d.toString('latin1'); check(); };
    sock.on('data', onData);
    sock.once('error', reject);
    check();
  });
  assert.match(await reply(), /^220 /);
  sock.write('EHLO client.example\r\n');
  assert.match(await reply(), /STARTTLS/);
  sock.write('STARTTLS\r\n');
  assert.match(await reply(), /^220 /);
  return served(tlsConnect({ socket: sock, servername, ca: [pebble.root] }));
}

function spkiSha256(cert: X509Certificate): string {
  return createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

test('tls-alpn-01: the host name\'s certificate is obtained on demand for SNI and served on IMAP and SMTP', { skip }, async (t) => {
  const sd = await acmeServerDir('tls-alpn-01');
  t.after(() => sd.remove());
  const r = await run(sd);
  t.after(() => r.close());

  const imaps = await imapsCertificate(r.imaps, hostname); // no certificate yet: the handshake waits for the order
  assert.ok(imaps.cert.checkHost(hostname));
  assert.match(imaps.cert.issuer, /Pebble/);
  const smtp = await smtpStarttlsCertificate(r.smtp, hostname);
  assert.equal(smtp.cert.fingerprint256, imaps.cert.fingerprint256);
  assert.equal(r.acme.ordersPlaced, 1);

  // The certificate is for the host name's stable key: its SPKI hash is the TLSA 3 1 1 value.
  const dataDir = sd.config.paths.dataDir;
  assert.equal(spkiSha256(imaps.cert), await hostKeySpkiSha256({ dataDir, provider, name: hostname }));
  const account = await registeredAccountURL(dataDir, provider); // for a CAA accounturi
  assert.ok(account?.startsWith(pebble.directoryURL.replace(/\/dir$/, '/')), account);
  assert.equal(await r.acme.accountURL(), account);
  for (const f of ['account.key.pem', `keys/${hostname}.key.pem`, 'account.json']) {
    assert.equal((await stat(join(dataDir, 'acme', provider, f))).mode & 0o777, 0o600, f);
  }

  // A name outside the list gets the host name's certificate and causes no order.
  const other = await imapsCertificate(r.imaps, 'other.example.com', { anyName: true });
  assert.equal(other.cert.fingerprint256, imaps.cert.fingerprint256);
  assert.equal(r.acme.ordersPlaced, 1);
});

test('http-01: certificates for the host, autoconfig and mta-sts names are obtained in the background at start', { skip }, async (t) => {
  const sd = await acmeServerDir('http-01', { perDomain: true });
  t.after(() => sd.remove());
  const r = await run(sd);
  t.after(() => r.close());
  const names = [hostname, 'autoconfig.example.com', 'mta-sts.example.com'];
  assert.deepEqual(r.acme.names().sort(), [...names].sort());

  r.acme.start();
  await waitFor('certificates for all names', async () => (names.every((n) => r.acme.cached(n)) ? true : undefined), 60_000);
  assert.equal(r.acme.ordersPlaced, 3);
  for (const name of names) {
    const s = await imapsCertificate(r.imaps, name);
    assert.ok(s.cert.checkHost(name), name);
    assert.equal(s.cert.fingerprint256, r.acme.cached(name)!.leaf.fingerprint256);
  }
  const smtp = await smtpStarttlsCertificate(r.smtp, 'mta-sts.example.com');
  assert.ok(smtp.cert.checkHost('mta-sts.example.com'));
  assert.equal(r.acme.ordersPlaced, 3);

  // The expiry metric is that of the certificates served, and only of names still in the list.
  const expiry = async () => new Map([...(await exposition()).body.matchAll(/^mailcove_acme_certificate_not_after_seconds\{provider="pebble",name="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
  assert.deepEqual(await expiry(), new Map(names.map((n) => [n, Math.floor(r.acme.cached(n)!.notAfter.getTime() / 1000)])));
  await r.acme.setNames([hostname]);
  assert.deepEqual([...(await expiry()).keys()], [hostname]);
});

test('a second start serves the cached certificate without a new order', { skip }, async (t) => {
  const sd = await acmeServerDir('tls-alpn-01');
  t.after(() => sd.remove());
  const first = await run(sd);
  t.after(() => first.close()); // closing twice is harmless
  const obtained = await first.acme.certificate(hostname);
  assert.equal(first.acme.ordersPlaced, 1);
  await first.close();

  const second = await run(sd);
  t.after(() => second.close());
  assert.equal(second.acme.cached(hostname)?.leaf.fingerprint256, obtained.leaf.fingerprint256);
  second.acme.start();
  await second.acme.checkRenewals();
  const imaps = await imapsCertificate(second.imaps, hostname);
  const smtp = await smtpStarttlsCertificate(second.smtp, hostname);
  assert.equal(imaps.cert.fingerprint256, obtained.leaf.fingerprint256);
  assert.equal(smtp.cert.fingerprint256, obtained.leaf.fingerprint256);
  assert.equal(second.acme.ordersPlaced, 0);
});

test('renewal, forced or with fewer than 30 days left, keeps the host key; the new certificate is served', { skip }, async (t) => {
  const sd = await acmeServerDir('tls-alpn-01');
  t.after(() => sd.remove());
  let now = Date.now();
  const r = await run(sd, { now: () => now });
  t.after(() => r.close());
  const spki = await hostKeySpkiSha256({ dataDir: sd.config.paths.dataDir, provider, name: hostname });

  const first = await r.acme.certificate(hostname);
  const forced = await r.acme.renew(hostname);
  assert.notEqual(forced.leaf.fingerprint256, first.leaf.fingerprint256);
  assert.equal(spkiSha256(forced.leaf), spki);
  assert.equal((await imapsCertificate(r.imaps, hostname)).cert.fingerprint256, forced.leaf.fingerprint256);
  assert.equal(r.acme.ordersPlaced, 2);

  now = forced.notAfter.getTime() - 31 * day; // not due yet
  await r.acme.checkRenewals();
  assert.equal(r.acme.ordersPlaced, 2);

  now = forced.notAfter.getTime() - 29 * day; // due
  await r.acme.checkRenewals();
  assert.equal(r.acme.ordersPlaced, 3);
  const renewed = r.acme.cached(hostname)!;
  assert.notEqual(renewed.leaf.fingerprint256, forced.leaf.fingerprint256);
  assert.equal(spkiSha256(renewed.leaf), spki);
  const smtp = await smtpStarttlsCertificate(r.smtp, hostname);
  assert.equal(smtp.cert.fingerprint256, renewed.leaf.fingerprint256);
});

test('a failed renewal is logged and retried later; the old certificate is served meanwhile', { skip }, async (t) => {
  const sd = await acmeServerDir('tls-alpn-01');
  t.after(() => sd.remove());
  const first = await run(sd);
  t.after(() => first.close());
  const old = await first.acme.certificate(hostname);
  await first.close();
  // A new account, so that the CA must validate again: pebble reuses a valid authorization of
  // the account 1% of the time even with PEBBLE_AUTHZREUSE=0 (wfe.go: rand.Intn(100) > percent).
  const dir = join(sd.config.paths.dataDir, 'acme', provider);
  await Promise.all(['account.key.pem', 'account.json'].map((f) => rm(join(dir, f))));

  let now = Date.now();
  const r = await run(sd, { now: () => now });
  t.after(() => r.close());
  assert.equal(r.acme.cached(hostname)?.leaf.fingerprint256, old.leaf.fingerprint256);
  await r.challenges.stop(); // the CA cannot reach us
  now = old.notAfter.getTime() - 20 * day;
  await r.acme.checkRenewals();
  assert.equal(r.acme.ordersPlaced, 1);
  assert.equal(r.acme.cached(hostname)?.leaf.fingerprint256, old.leaf.fingerprint256);
  assert.equal((await imapsCertificate(r.imaps, hostname)).cert.fingerprint256, old.leaf.fingerprint256);
  await r.acme.checkRenewals(); // before the retry time: no new order
  assert.equal(r.acme.ordersPlaced, 1);

  await r.challenges.start();
  now += 6 * 60 * 1000; // the first retry comes after 5 minutes
  await r.acme.checkRenewals();
  assert.equal(r.acme.ordersPlaced, 2);
  const renewed = r.acme.cached(hostname)!;
  assert.notEqual(renewed.leaf.fingerprint256, old.leaf.fingerprint256);
  assert.equal(spkiSha256(renewed.leaf), spkiSha256(old.leaf)); // the host key outlives the account
  assert.equal((await imapsCertificate(r.imaps, hostname)).cert.fingerprint256, renewed.leaf.fingerprint256);
});
