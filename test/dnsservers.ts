// Real DNS for tests: nsd serves zones (signed at test time with ldns-signzone when asked)
// on a loopback port, unbound validates them with trust anchors for the signed zones only
// and sets the AD bit. Returns a StubResolver pointed at unbound. Test-only.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { StubResolver, isDnsError } from '../src/dns/index.ts';

const binaries = ['/usr/sbin/nsd', '/usr/sbin/unbound', '/usr/bin/ldns-keygen', '/usr/bin/ldns-signzone'];

/** Missing DNS peers; in CI (CI=true) tests fail on them instead of skipping. */
export const missingDnsPeers = binaries.filter((b) => !existsSync(b));

export interface TestZone {
  name: string; // origin without trailing dot
  records: string[]; // zone file lines relative to the origin, e.g. '@ IN TXT "v=spf1 -all"'
  sign?: boolean | { inception: string; expiration: string }; // sign with a fresh key; dates (YYYYMMDDhhmmss) make broken signatures
}

export interface DnsServers {
  resolver: StubResolver;
  /** Stops both daemons and waits for them to exit before removing their folder (they write pid files on the way out). */
  stop(): Promise<void>;
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

export async function startDnsServers(zones: readonly TestZone[]): Promise<DnsServers> {
  const dir = mkdtempSync(join(tmpdir(), 'mailcove-dns-'));
  const daemons: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(daemons.map((p) => (p.exitCode !== null || p.signalCode !== null ? undefined : new Promise<void>((res) => { p.once('exit', () => res()); p.kill('SIGTERM'); }))));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const anchors: string[] = [];
    const files: Array<[string, string]> = [];
    for (const z of zones) {
      const text = [`$ORIGIN ${z.name}.`, '$TTL 300', `@ IN SOA ns1.${z.name}. hostmaster.${z.name}. 1 3600 600 86400 60`, '@ IN NS ns1', 'ns1 IN A 127.0.0.1', ...z.records, ''].join('\n');
      writeFileSync(join(dir, `${z.name}.zone`), text);
      if (z.sign) {
        const base = execFileSync('ldns-keygen', ['-a', 'ECDSAP256SHA256', '-k', z.name], { cwd: dir, encoding: 'utf8' }).trim();
        const dates = typeof z.sign === 'object' ? ['-i', z.sign.inception, '-e', z.sign.expiration] : [];
        execFileSync('ldns-signzone', [...dates, '-o', z.name, `${z.name}.zone`, base], { cwd: dir });
        anchors.push(readFileSync(join(dir, `${base}.ds`), 'utf8'));
        files.push([z.name, `${z.name}.zone.signed`]);
      } else files.push([z.name, `${z.name}.zone`]);
    }
    writeFileSync(join(dir, 'anchors.ds'), anchors.join(''));
    const nsdPort = await freePort();
    const unboundPort = await freePort();
    writeFileSync(join(dir, 'nsd.conf'), [
      'server:', `  ip-address: 127.0.0.1@${nsdPort}`, '  database: ""', `  zonesdir: "${dir}"`, `  pidfile: "${dir}/nsd.pid"`, `  xfrdfile: "${dir}/xfrd.state"`,
      `  zonelistfile: "${dir}/zone.list"`, `  xfrdir: "${dir}"`, '  username: ""', '  chroot: ""', '  server-count: 1', 'remote-control:', '  control-enable: no',
      ...files.flatMap(([name, file]) => ['zone:', `  name: ${name}`, `  zonefile: ${file}`]), '',
    ].join('\n'));
    writeFileSync(join(dir, 'unbound.conf'), [
      'server:', `  interface: 127.0.0.1@${unboundPort}`, '  do-ip6: no', '  do-not-query-localhost: no', '  username: ""', '  chroot: ""', `  directory: "${dir}"`,
      `  pidfile: "${dir}/unbound.pid"`, '  use-syslog: no', '  module-config: "validator iterator"', ...(anchors.length ? [`  trust-anchor-file: "${dir}/anchors.ds"`] : []),
      '  access-control: 127.0.0.0/8 allow', '  qname-minimisation: no', '  num-threads: 1', '  domain-insecure: "in-addr.arpa"', 'remote-control:', '  control-enable: no',
      ...files.flatMap(([name]) => ['stub-zone:', `  name: ${name}`, `  stub-addr: 127.0.0.1@${nsdPort}`]), '',
    ].join('\n'));
    for (const [cmd, conf] of [['nsd', 'nsd.conf'], ['unbound', 'unbound.conf']] as const) {
      const p = spawn(cmd, ['-d', '-c', join(dir, conf)], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
      p.on('exit', (code) => { if (code && code !== 0) process.stderr.write(`${cmd} exited ${code}: ${stderr}\n`); });
      daemons.push(p);
    }
    const probeZone = zones[0]?.name ?? '.';
    await waitReady(`127.0.0.1:${nsdPort}`, probeZone);
    await waitReady(`127.0.0.1:${unboundPort}`, probeZone);
    return { resolver: new StubResolver({ servers: [`127.0.0.1:${unboundPort}`], timeoutMs: 2000, attempts: 1 }), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
