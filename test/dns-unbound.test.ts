// The stub resolver against real DNS software on loopback ports: nsd serves zones signed
// at test time with ldns-signzone, unbound validates them (trust anchors for the test
// zones only) and sets the AD bit. Skips when the peers are missing, unless CI=true.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { StubResolver, isDnsError } from '../src/dns/index.ts';

const binaries = ['/usr/sbin/nsd', '/usr/sbin/unbound', '/usr/bin/ldns-keygen', '/usr/bin/ldns-signzone'];
const missing = binaries.filter((b) => !existsSync(b));
const skip = missing.length > 0 && process.env['CI'] !== 'true'
  ? `DNS test peers missing (${missing.join(', ')}): run scripts/install-test-peers.sh`
  : false;
if (missing.length > 0 && process.env['CI'] === 'true') {
  test('DNS test peers are installed (CI=true)', () => assert.fail(`missing: ${missing.join(', ')}`));
}

/** A port free for both UDP and TCP on 127.0.0.1 (as far as we can tell before the daemon binds it). */
async function freePort(): Promise<number> {
  for (;;) {
    const udp = createSocket('udp4');
    await new Promise<void>((res) => udp.bind(0, '127.0.0.1', res));
    const port = udp.address().port;
    const tcp = createServer();
    const ok = await new Promise<boolean>((res) => {
      tcp.once('error', () => res(false));
      tcp.listen(port, '127.0.0.1', () => res(true));
    });
    udp.close();
    if (ok) await new Promise<void>((res) => tcp.close(() => res()));
    if (ok) return port;
  }
}

function zoneText(origin: string): string {
  return [
    `$ORIGIN ${origin}.`,
    '$TTL 300',
    `@ IN SOA ns1.${origin}. hostmaster.${origin}. 1 3600 600 86400 60`,
    '@ IN NS ns1',
    'ns1 IN A 127.0.0.1',
    '@ IN MX 10 mail',
    'mail IN A 192.0.2.10',
    '@ IN TXT "v=spf1 " "-all"',
    '',
  ].join('\n');
}

let dir = '';
const daemons: ChildProcess[] = [];
let resolver: StubResolver;

/** Sign a zone with a fresh key; returns the DS line for unbound's trust anchor. */
function sign(zone: string, extraArgs: string[] = []): string {
  const base = execFileSync('ldns-keygen', ['-a', 'ECDSAP256SHA256', '-k', zone], { cwd: dir, encoding: 'utf8' }).trim();
  execFileSync('ldns-signzone', [...extraArgs, '-o', zone, `${zone}.zone`, base], { cwd: dir });
  return readFileSync(join(dir, `${base}.ds`), 'utf8');
}

function startDaemon(cmd: string, args: string[]): ChildProcess {
  const p = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  p.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  p.on('exit', (code) => { if (code && code !== 0) process.stderr.write(`${cmd} exited ${code}: ${stderr}\n`); });
  daemons.push(p);
  return p;
}

/** Poll until the server answers a query at all (any DNS answer, even an error rcode). */
async function waitReady(server: string, name: string): Promise<void> {
  const probe = new StubResolver({ servers: [server], timeoutMs: 200, attempts: 1, cacheSize: 0 });
  for (let i = 0; i < 50; i++) {
    try {
      await probe.lookupNS(name);
      return;
    } catch (e) {
      if (isDnsError(e) && e.kind !== 'timeout' && e.kind !== 'malformed') return;
    }
  }
  throw new Error(`${server} did not answer within 10 s`);
}

before(async () => {
  if (skip || missing.length > 0) return;
  dir = mkdtempSync(join(tmpdir(), 'mailcove-dns-'));
  for (const z of ['signed.mcove', 'unsigned.mcove', 'bogus.mcove']) writeFileSync(join(dir, `${z}.zone`), zoneText(z));
  const anchors = [
    sign('signed.mcove'),
    sign('bogus.mcove', ['-i', '20000101000000', '-e', '20000201000000']), // expired signatures: validation fails (RFC 4035 §5.3.1)
  ];
  writeFileSync(join(dir, 'anchors.ds'), anchors.join(''));

  const nsdPort = await freePort();
  const unboundPort = await freePort();
  const zones = [['signed.mcove', 'signed.mcove.zone.signed'], ['bogus.mcove', 'bogus.mcove.zone.signed'], ['unsigned.mcove', 'unsigned.mcove.zone']] as const;
  writeFileSync(join(dir, 'nsd.conf'), [
    'server:',
    `  ip-address: 127.0.0.1@${nsdPort}`,
    '  database: ""',
    `  zonesdir: "${dir}"`,
    `  pidfile: "${dir}/nsd.pid"`,
    `  xfrdfile: "${dir}/xfrd.state"`,
    `  zonelistfile: "${dir}/zone.list"`,
    `  xfrdir: "${dir}"`,
    '  username: ""',
    '  chroot: ""',
    '  server-count: 1',
    'remote-control:',
    '  control-enable: no',
    ...zones.flatMap(([name, file]) => ['zone:', `  name: ${name}`, `  zonefile: ${file}`]),
    '',
  ].join('\n'));
  writeFileSync(join(dir, 'unbound.conf'), [
    'server:',
    `  interface: 127.0.0.1@${unboundPort}`,
    '  do-ip6: no',
    '  do-not-query-localhost: no',
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    `  pidfile: "${dir}/unbound.pid"`,
    '  use-syslog: no',
    '  module-config: "validator iterator"',
    `  trust-anchor-file: "${dir}/anchors.ds"`,
    '  access-control: 127.0.0.0/8 allow',
    '  qname-minimisation: no',
    '  num-threads: 1',
    'remote-control:',
    '  control-enable: no',
    ...zones.flatMap(([name]) => ['stub-zone:', `  name: ${name}`, `  stub-addr: 127.0.0.1@${nsdPort}`]),
    '',
  ].join('\n'));
  startDaemon('nsd', ['-d', '-c', join(dir, 'nsd.conf')]);
  startDaemon('unbound', ['-d', '-c', join(dir, 'unbound.conf')]);
  await waitReady(`127.0.0.1:${nsdPort}`, 'signed.mcove');
  await waitReady(`127.0.0.1:${unboundPort}`, 'signed.mcove');
  resolver = new StubResolver({ servers: [`127.0.0.1:${unboundPort}`], timeoutMs: 2000, attempts: 1 });
});

after(() => {
  for (const p of daemons) p.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a signed zone validates: authentic answers', { skip }, async () => {
  const mx = await resolver.lookupMX('signed.mcove');
  assert.deepEqual(mx.records, [{ preference: 10, exchange: 'mail.signed.mcove' }]);
  assert.equal(mx.authentic, true);
  const txt = await resolver.lookupTXT('signed.mcove');
  assert.equal(txt.records[0]?.text, 'v=spf1 -all');
  assert.equal(txt.authentic, true);
});

test('an unsigned zone answers, but not authentic', { skip }, async () => {
  const a = await resolver.lookupA('mail.unsigned.mcove');
  assert.deepEqual(a.records, ['192.0.2.10']);
  assert.equal(a.authentic, false);
});

test('a zone with broken (expired) signatures is SERVFAIL', { skip }, async () => {
  await assert.rejects(resolver.lookupA('mail.bogus.mcove'), (e) => isDnsError(e, 'servfail'));
});

test('a missing name in the signed zone is NXDOMAIN', { skip }, async () => {
  await assert.rejects(resolver.lookupA('nope.signed.mcove'), (e) => isDnsError(e, 'nxdomain'));
});
