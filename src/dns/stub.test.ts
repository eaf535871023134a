// The stub resolver against a small DNS server written here on dns-packet, answering over
// UDP and TCP on a loopback port: record types, AD bit, RCODEs, retries, TC → TCP,
// spoof resistance, caching and CNAME following.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server as TcpServer } from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet } from 'dns-packet';
import { StubResolver, isDnsError, resolverFromConfig, NoResolver, parseResolvConf } from './index.ts';

type Proto = 'udp' | 'tcp';
/** What the handler wants sent: a response (id and question are filled in), raw bytes, or nothing. */
type Reply = Packet | { raw: Buffer } | 'drop';
type Handler = (q: DecodedPacket, proto: Proto) => Reply | Reply[];

const NXDOMAIN = 3, SERVFAIL = 2, REFUSED = 5;

interface TestServer {
  addr: string; // 127.0.0.1:port
  received: { name: string; type: string; proto: Proto; query: DecodedPacket }[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];
after(async () => { await Promise.all(servers.map((s) => s.close())); });

function respond(q: DecodedPacket, r: Packet): Buffer {
  return dnsPacket.encode({ questions: q.questions, ...r, type: 'response', id: r.id ?? q.id, flags: (r.flags ?? 0) | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE });
}

function replies(q: DecodedPacket, proto: Proto, handler: Handler): Buffer[] {
  const out = handler(q, proto);
  return (Array.isArray(out) ? out : [out]).flatMap((r) => (r === 'drop' ? [] : 'raw' in r ? [r.raw] : [respond(q, r)]));
}

async function startServer(handler: Handler): Promise<TestServer> {
  for (;;) {
    const udp: Socket = createSocket('udp4');
    await new Promise<void>((res) => udp.bind(0, '127.0.0.1', res));
    const port = udp.address().port;
    const tcp: TcpServer = createServer();
    const ok = await new Promise<boolean>((res) => {
      tcp.once('error', () => res(false));
      tcp.listen(port, '127.0.0.1', () => res(true));
    });
    if (!ok) { udp.close(); continue; } // TCP port taken: pick another pair
    const received: TestServer['received'] = [];
    const note = (q: DecodedPacket, proto: Proto): void => {
      const qq = q.questions?.[0];
      received.push({ name: qq?.name ?? '', type: qq?.type ?? '', proto, query: q });
    };
    udp.on('message', (msg, rinfo) => {
      const q = dnsPacket.decode(msg);
      note(q, 'udp');
      for (const b of replies(q, 'udp', handler)) udp.send(b, rinfo.port, rinfo.address);
    });
    tcp.on('connection', (c) => {
      let buf = Buffer.alloc(0);
      c.on('error', () => {});
      c.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        const q = dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        note(q, 'tcp');
        for (const b of replies(q, 'tcp', handler)) {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(b.length);
          c.write(Buffer.concat([len, b]));
        }
      });
    });
    const s: TestServer = {
      addr: `127.0.0.1:${port}`,
      received,
      close: () => new Promise<void>((res) => { udp.close(); tcp.close(() => res()); }),
    };
    servers.push(s);
    return s;
  }
}

const soa: Answer = { type: 'SOA', name: 'example.test', ttl: 600, data: { mname: 'ns.example.test', rname: 'host.example.test', serial: 1, minimum: 60 } };

/** A small zone: every type, a CNAME chain, a name with no A. */
function zone(q: DecodedPacket): Packet {
  const qq = q.questions?.[0];
  const name = qq?.name.toLowerCase() ?? '';
  const type = qq?.type;
  const all: Answer[] = [
    { type: 'A', name: 'host.example.test', ttl: 300, data: '192.0.2.1' },
    { type: 'A', name: 'host.example.test', ttl: 100, data: '192.0.2.2' },
    { type: 'AAAA', name: 'host.example.test', ttl: 300, data: '2001:db8::1' },
    { type: 'MX', name: 'example.test', ttl: 300, data: { preference: 10, exchange: 'Mail.Example.TEST' } },
    { type: 'TXT', name: 'example.test', ttl: 300, data: [Buffer.from('v=spf1 '), Buffer.from('-all')] },
    { type: 'TLSA', name: '_25._tcp.mail.example.test', ttl: 300, data: { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.from('abcd', 'hex') } },
    { type: 'PTR', name: '1.2.0.192.in-addr.arpa', ttl: 300, data: 'host.example.test' },
    { type: 'NS', name: 'example.test', ttl: 300, data: 'ns.example.test' },
    { type: 'SRV', name: '_submission._tcp.example.test', ttl: 300, data: { priority: 0, weight: 1, port: 587, target: 'mail.example.test' } },
    { type: 'CNAME', name: 'www.example.test', ttl: 50, data: 'alias.example.test' },
    { type: 'CNAME', name: 'alias.example.test', ttl: 300, data: 'host.example.test' },
  ];
  if (name === 'nxdomain.example.test') return { flags: NXDOMAIN, authorities: [soa] };
  // Follow CNAMEs in the server as a recursive resolver does, including the whole chain.
  const answers: Answer[] = [];
  let cur = name;
  for (let i = 0; i < 10; i++) {
    const direct = all.filter((a) => a.name.toLowerCase() === cur && a.type === type);
    if (direct.length > 0) { answers.push(...direct); break; }
    const c = all.find((a) => a.name === cur && a.type === 'CNAME');
    if (!c || c.type !== 'CNAME' || type === 'CNAME') break;
    answers.push(c);
    cur = c.data;
  }
  return answers.length > 0 ? { answers } : { authorities: [soa] }; // NODATA with SOA
}

const fast = { timeoutMs: 300, attempts: 2 };

test('answers of each record type are typed and normalised', async () => {
  const s = await startServer(zone);
  const r = new StubResolver({ servers: [s.addr], ...fast });
  const a = await r.lookupA('HOST.example.test.');
  assert.deepEqual(a.records, ['192.0.2.1', '192.0.2.2']);
  assert.equal(a.ttl, 100); // minimum over the RRset
  assert.equal(a.name, 'host.example.test');
  assert.deepEqual((await r.lookupAAAA('host.example.test')).records, ['2001:db8::1']);
  assert.deepEqual((await r.lookupIP('host.example.test')).records, ['2001:db8::1', '192.0.2.1', '192.0.2.2']);
  assert.deepEqual((await r.lookupMX('example.test')).records, [{ preference: 10, exchange: 'mail.example.test' }]);
  const txt = (await r.lookupTXT('example.test')).records[0];
  assert.equal(txt?.text, 'v=spf1 -all'); // strings joined without separator
  assert.deepEqual(txt?.strings.map(String), ['v=spf1 ', '-all']);
  const tlsa = (await r.lookupTLSA('_25._tcp.mail.example.test')).records[0];
  assert.equal(tlsa?.usage, 3);
  assert.deepEqual(tlsa?.data, Buffer.from('abcd', 'hex'));
  assert.deepEqual((await r.lookupPTR('192.0.2.1')).records, ['host.example.test']);
  assert.deepEqual((await r.lookupNS('example.test')).records, ['ns.example.test']);
  assert.deepEqual((await r.lookupSRV('_submission._tcp.example.test')).records, [{ priority: 0, weight: 1, port: 587, target: 'mail.example.test' }]);
  assert.deepEqual((await r.lookupCNAME('www.example.test')).records, ['alias.example.test']);
  const nodata = await r.lookupMX('host.example.test');
  assert.deepEqual(nodata.records, []); // NODATA is an empty list, not an error
});

test('queries carry EDNS0 with the DO bit and a 1232-byte payload size', async () => {
  const s = await startServer(zone);
  await new StubResolver({ servers: [s.addr], ...fast }).lookupA('host.example.test');
  const opt = s.received[0]?.query.additionals?.find((a) => a.type === 'OPT');
  assert.ok(opt && opt.type === 'OPT');
  assert.equal(opt.flag_do, true);
  assert.equal(opt.udpPayloadSize, 1232);
  assert.equal(s.received[0]?.query.flag_rd, true);
});

test('the AD bit makes an answer authentic; without it, not', async () => {
  let ad = true;
  const s = await startServer((q) => ({ ...zone(q), flags: ad ? dnsPacket.AUTHENTIC_DATA : 0 }));
  const r = new StubResolver({ servers: [s.addr], ...fast, cacheSize: 0 });
  assert.equal((await r.lookupA('host.example.test')).authentic, true);
  ad = false;
  assert.equal((await r.lookupA('host.example.test')).authentic, false);
});

test('NXDOMAIN, SERVFAIL and REFUSED are distinct error kinds', async () => {
  const s = await startServer((q) => {
    const n = q.questions?.[0]?.name;
    if (n === 'servfail.example.test') return { flags: SERVFAIL };
    if (n === 'refused.example.test') return { flags: REFUSED };
    return zone(q);
  });
  const r = new StubResolver({ servers: [s.addr], ...fast });
  await assert.rejects(r.lookupA('nxdomain.example.test'), (e) => isDnsError(e, 'nxdomain') && !e.temporary);
  await assert.rejects(r.lookupA('servfail.example.test'), (e) => isDnsError(e, 'servfail') && e.temporary);
  await assert.rejects(r.lookupA('refused.example.test'), (e) => isDnsError(e, 'refused'));
});

test('a server that does not answer times out, and the next server is asked', async () => {
  const silent = await startServer(() => 'drop');
  const good = await startServer(zone);
  const r = new StubResolver({ servers: [silent.addr, good.addr], timeoutMs: 200, attempts: 1 });
  const t0 = Date.now();
  assert.deepEqual((await r.lookupA('host.example.test')).records, ['192.0.2.1', '192.0.2.2']);
  assert.ok(Date.now() - t0 >= 190);
  assert.equal(silent.received.length, 1);
  assert.equal(good.received.length, 1);
  const only = new StubResolver({ servers: [silent.addr], timeoutMs: 100, attempts: 2 });
  await assert.rejects(only.lookupA('host.example.test'), (e) => isDnsError(e, 'timeout'));
  assert.equal(silent.received.length, 3); // retried once more in the second round
});

test('a truncated UDP answer is retried over TCP', async () => {
  const s = await startServer((q, proto) => (proto === 'udp' ? { flags: dnsPacket.TRUNCATED_RESPONSE } : zone(q)));
  const r = new StubResolver({ servers: [s.addr], ...fast });
  assert.deepEqual((await r.lookupMX('example.test')).records, [{ preference: 10, exchange: 'mail.example.test' }]);
  assert.deepEqual(s.received.map((x) => x.proto), ['udp', 'tcp']);
});

test('responses with a wrong id or a different question are ignored', async () => {
  const s = await startServer((q) => [
    { ...zone(q), id: ((q.id ?? 0) + 1) % 65536, answers: [{ type: 'A', name: 'host.example.test', ttl: 300, data: '203.0.113.66' }] },
    { ...zone(q), questions: [{ type: 'A', name: 'other.example.test' }], answers: [{ type: 'A', name: 'host.example.test', ttl: 300, data: '203.0.113.67' }] },
    { raw: Buffer.from('garbage') },
    zone(q),
  ]);
  const r = new StubResolver({ servers: [s.addr], ...fast });
  assert.deepEqual((await r.lookupA('host.example.test')).records, ['192.0.2.1', '192.0.2.2']);
});

test('answers are cached until their TTL expires', async () => {
  let now = 1_000_000;
  const s = await startServer(zone);
  const r = new StubResolver({ servers: [s.addr], ...fast, now: () => now });
  await r.lookupA('host.example.test');
  await r.lookupA('Host.Example.Test.');
  assert.equal(s.received.length, 1); // second lookup from the cache
  now += 99_000;
  await r.lookupA('host.example.test');
  assert.equal(s.received.length, 1);
  now += 2_000; // past the 100 s minimum TTL
  await r.lookupA('host.example.test');
  assert.equal(s.received.length, 2);
});

test('NXDOMAIN is cached for the SOA minimum; SERVFAIL is not cached', async () => {
  let now = 1_000_000;
  const s = await startServer((q) => (q.questions?.[0]?.name === 'servfail.example.test' ? { flags: SERVFAIL } : zone(q)));
  const r = new StubResolver({ servers: [s.addr], ...fast, now: () => now });
  for (let i = 0; i < 2; i++) await assert.rejects(r.lookupA('nxdomain.example.test'), (e) => isDnsError(e, 'nxdomain'));
  assert.equal(s.received.length, 1);
  now += 61_000; // RFC 2308 §5: min(SOA TTL 600, MINIMUM 60)
  await assert.rejects(r.lookupA('nxdomain.example.test'), (e) => isDnsError(e, 'nxdomain'));
  assert.equal(s.received.length, 2);
  for (let i = 0; i < 2; i++) await assert.rejects(r.lookupA('servfail.example.test'), (e) => isDnsError(e, 'servfail'));
  assert.equal(s.received.length, 4);
});

test('CNAME chains are followed, inside one response and across queries', async () => {
  const s = await startServer(zone);
  const r = new StubResolver({ servers: [s.addr], ...fast });
  const a = await r.lookupA('www.example.test');
  assert.deepEqual(a.records, ['192.0.2.1', '192.0.2.2']);
  assert.deepEqual(a.cnames, ['alias.example.test', 'host.example.test']);
  assert.equal(a.finalName, 'host.example.test');
  assert.equal(a.ttl, 50); // minimum over the chain
  assert.equal(s.received.length, 1);

  // A server that returns only the first CNAME: the stub asks about the target itself.
  const partial = await startServer((q) => {
    const z = zone(q);
    return { ...z, answers: z.answers?.filter((a) => a.name === q.questions?.[0]?.name) };
  });
  const r2 = new StubResolver({ servers: [partial.addr], ...fast });
  const b = await r2.lookupA('www.example.test');
  assert.deepEqual(b.records, ['192.0.2.1', '192.0.2.2']);
  assert.deepEqual(b.cnames, ['alias.example.test', 'host.example.test']);
  assert.deepEqual(partial.received.map((x) => x.name), ['www.example.test', 'alias.example.test', 'host.example.test']);
});

test('a CNAME loop is a malformed error, not a hang', async () => {
  const s = await startServer((q) => ({ answers: [{ type: 'CNAME', name: q.questions?.[0]?.name ?? '', ttl: 60, data: `x${q.questions?.[0]?.name ?? ''}` }] }));
  const r = new StubResolver({ servers: [s.addr], ...fast });
  await assert.rejects(r.lookupA('loop.example.test'), (e) => isDnsError(e, 'malformed'));
  assert.ok(s.received.length <= 10);
});

test('an authentic answer behind an unsigned CNAME step is not authentic', async () => {
  const s = await startServer((q) => {
    const z = zone(q);
    const n = q.questions?.[0]?.name;
    return { ...z, answers: z.answers?.filter((a) => a.name === n), flags: n === 'www.example.test' ? 0 : dnsPacket.AUTHENTIC_DATA };
  });
  const r = new StubResolver({ servers: [s.addr], ...fast });
  assert.equal((await r.lookupA('www.example.test')).authentic, false);
  assert.equal((await r.lookupA('alias.example.test')).authentic, true);
});

test('resolv.conf supplies servers and options', () => {
  const c = parseResolvConf('# comment\nnameserver 192.0.2.53\nnameserver 2001:db8::53%eth0\noptions timeout:1 attempts:3 rotate\nsearch example.test\n');
  assert.deepEqual(c, { servers: ['192.0.2.53', '2001:db8::53'], timeoutMs: 1000, attempts: 3, rotate: true });
  assert.deepEqual(new StubResolver({ servers: ['[2001:db8::1]:5353', '192.0.2.1'], ...fast }).servers, [{ host: '2001:db8::1', port: 5353 }, { host: '192.0.2.1', port: 53 }]);
});

test('resolverFromConfig: none is hermetic, servers make a stub', async () => {
  const none = resolverFromConfig({ servers: 'none' });
  assert.ok(none instanceof NoResolver);
  await assert.rejects(none.lookupA('example.test'), (e) => isDnsError(e, 'notconfigured'));
  const s = await startServer(zone);
  const stub = resolverFromConfig({ servers: [s.addr] });
  assert.ok(stub instanceof StubResolver);
  assert.deepEqual((await stub.lookupA('host.example.test')).records, ['192.0.2.1', '192.0.2.2']);
});
