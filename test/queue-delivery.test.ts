// Outbound delivery end to end on loopback: a Mailcove submits to its queue, the queue
// delivers to a receiving Mailcove found through real DNS (nsd serving DNSSEC-signed and
// unsigned zones, unbound validating), with MTA-STS policies fetched over HTTPS from a
// server with a test CA, DANE checked against TLSA records, REQUIRETLS, null MX, DSNs,
// suppression, hold rules and FUTURERELEASE. Every MX resolves to 127.0.0.1; the MX port
// is the test-only override.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttps, type Server as HttpsServer } from 'node:https';
import { createServer as createNet, type AddressInfo, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { missingDnsPeers, startDnsServers, type DnsServers } from './dnsservers.ts';
import { makeTestCA, type TestCA } from './testca.ts';
import { smtpFixture, staticText, type SmtpFixture } from '../src/smtpserver/testfixture.ts';
import type { RetiredRecipient } from '../src/store/index.ts';
import { waitFor } from './waitfor.ts';

const skip = missingDnsPeers.length > 0 && process.env['CI'] !== 'true' ? `DNS test peers missing (${missingDnsPeers.join(', ')})` : false;

let ca: TestCA;
let dns: DnsServers;
let receiver: SmtpFixture;
let sender: SmtpFixture;
let stsServer: HttpsServer;

const receiverDomains = `domains:
  plain.mcove: {}
  sts.mcove: {}
  stsbad.mcove: {}
  dane.mcove: {}
  danebad.mcove: {}
  insecure.mcove: {}
  ststest.mcove: {}
accounts:
  rcpt:
    domain: plain.mcove
    destinations:
      known@plain.mcove: {}
      '@sts.mcove': {}
      '@stsbad.mcove': {}
      '@dane.mcove': {}
      '@danebad.mcove': {}
      '@insecure.mcove': {}
      '@ststest.mcove': {}
`;

before(async () => {
  if (skip) return;
  ca = makeTestCA();
  const mxSts = ca.issue(['mx.sts.mcove']); // the default certificate: presented to names without their own
  const mxDane = ca.issue(['mx.dane.mcove']);
  const policyCert = ca.issue(['mta-sts.sts.mcove', 'mta-sts.stsbad.mcove', 'mta-sts.ststest.mcove']);
  receiver = await smtpFixture({
    domains: receiverDomains,
    static: staticText.replace('tls: { selfSigned: true }', `tls: { keyCerts: [{ certFile: ${JSON.stringify(mxSts.certFile)}, keyFile: ${JSON.stringify(mxSts.keyFile)} }, { certFile: ${JSON.stringify(mxDane.certFile)}, keyFile: ${JSON.stringify(mxDane.keyFile)} }] }`).replace('hostname: mail.example.com', 'hostname: mx.plain.mcove'),
  });
  const mxPort = receiver.port('smtp');
  stsServer = createHttps({ cert: policyCert.certPEM, key: policyCert.keyPEM }, (req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const domain = host.replace(/^mta-sts\./, '');
    const mode = domain === 'ststest.mcove' ? 'testing' : 'enforce';
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`version: STSv1\r\nmode: ${mode}\r\nmx: mx.${domain}\r\nmax_age: 86400\r\n`);
  });
  stsServer.listen(0, '127.0.0.1');
  await once(stsServer, 'listening');
  const mx = (name: string) => ['@ IN MX 10 mx', 'mx IN A 127.0.0.1', ...(name ? [] : [])];
  dns = await startDnsServers([
    { name: 'dane.mcove', sign: true, records: [...mx(''), `_${mxPort}._tcp.mx IN TLSA 3 1 1 ${mxDane.spkiSha256}`] },
    { name: 'danebad.mcove', sign: true, records: [...mx(''), `_${mxPort}._tcp.mx IN TLSA 3 1 1 ${randomBytes(32).toString('hex')}`] },
    { name: 'plain.mcove', records: mx('') },
    { name: 'insecure.mcove', records: [...mx(''), `_${mxPort}._tcp.mx IN TLSA 3 1 1 ${randomBytes(32).toString('hex')}`] }, // unsigned: ignored
    { name: 'sts.mcove', records: [...mx(''), 'mta-sts IN A 127.0.0.1', '_mta-sts IN TXT "v=STSv1; id=20261129"'] },
    { name: 'stsbad.mcove', records: [...mx(''), 'mta-sts IN A 127.0.0.1', '_mta-sts IN TXT "v=STSv1; id=20261129"'] },
    { name: 'ststest.mcove', records: [...mx(''), 'mta-sts IN A 127.0.0.1', '_mta-sts IN TXT "v=STSv1; id=20261129"'] },
    { name: 'nullmx.mcove', records: ['@ IN MX 0 .'] },
  ]);
  sender = await smtpFixture({
    resolver: dns.resolver,
    queue: { testing: { mxPort, mtaStsPort: (stsServer.address() as AddressInfo).port, ca: [ca.caPEM], firstRetryMs: 300 } },
  });
});

after(async () => {
  await sender?.done();
  await receiver?.done();
  stsServer?.close();
  await dns?.stop();
  ca?.remove();
});

/** Submits one message as mjl@example.com; `params` go on MAIL FROM, `headers` before the body. */
async function submit(f: SmtpFixture, to: string[], o: { params?: string; headers?: string; rcptParams?: string } = {}): Promise<void> {
  const c = await f.connect('submission', { starttls: true, auth: true });
  await c.command(`MAIL FROM:<mjl@example.com>${o.params ? ` ${o.params}` : ''}`, 250);
  for (const t of to) await c.command(`RCPT TO:<${t}>${o.rcptParams ? ` ${o.rcptParams}` : ''}`, 250);
  await c.command('DATA', 354);
  c.write(`From: <mjl@example.com>\r\nTo: <${to[0]}>\r\nSubject: test ${to[0]}\r\n${o.headers ?? ''}\r\nHello ${to.join(', ')}\r\n.\r\n`);
  await c.expect(250);
  await c.command('QUIT', 221);
  c.close();
}


const retired = (f: SmtpFixture, address: string) => waitFor(`retired ${address}`, async () => (await f.store.queue.listRetired()).find((r) => r.address === address));
const queued = async (f: SmtpFixture, address: string) => (await f.store.queue.list()).flatMap((m) => m.recipients).find((r) => r.address === address);
const lastAttempt = (r: RetiredRecipient) => r.attempts.at(-1)!;

async function dsnFor(f: SmtpFixture, address: string): Promise<string> {
  return waitFor(`DSN about ${address}`, async () => (await f.messages('mjl')).find((m) => m.includes('multipart/report') && m.includes(address)));
}

test('STARTTLS delivery to an MX without policy: opportunistic TLS, recorded as such', { skip }, async () => {
  await submit(sender, ['known@plain.mcove']);
  const r = await retired(sender, 'known@plain.mcove');
  assert.equal(r.success, true);
  assert.equal(lastAttempt(r).tls, 'starttls');
  assert.equal(lastAttempt(r).mx, 'mx.plain.mcove');
  assert.ok((await receiver.messages('rcpt')).some((m) => m.includes('Hello known@plain.mcove')));
  const tls = await sender.store.queue.tlsResults('2000-01-01');
  assert.ok(tls.some((t) => t.policyDomain === 'plain.mcove' && t.policy === 'no-policy-found' && t.result === 'success'));
});

test('MTA-STS enforce: a certificate valid for the MX host delivers; a mismatching one defers, reported', { skip }, async () => {
  await submit(sender, ['a@sts.mcove']);
  const ok = await retired(sender, 'a@sts.mcove');
  assert.equal(ok.success, true);
  assert.equal(lastAttempt(ok).tls, 'mtasts');
  await submit(sender, ['b@stsbad.mcove']);
  const deferred = await waitFor('deferred stsbad', async () => { const r = await queued(sender, 'b@stsbad.mcove'); return r && r.attempts > 0 ? r : undefined; });
  assert.match(deferred.lastError ?? '', /mtasts-enforce|certificate|altname|does not match/i);
  assert.ok(!(await receiver.messages('rcpt')).some((m) => m.includes('Hello b@stsbad.mcove')));
  const tls = await sender.store.queue.tlsResults('2000-01-01');
  assert.ok(tls.some((t) => t.policyDomain === 'sts.mcove' && t.policy === 'sts' && t.result === 'success'));
  assert.ok(tls.some((t) => t.policyDomain === 'stsbad.mcove' && t.mxHost === 'mx.stsbad.mcove' && t.result === 'certificate-host-mismatch'));
  await waitFor('b@stsbad.mcove dropped', async () => ((await sender.queue!.drop({ to: 'b@stsbad.mcove' })) === 1 ? true : undefined)); // not while a retry is in flight
  // Mode testing (RFC 8461 §5): the same mismatch is reported, and the message goes over unverified TLS.
  await submit(sender, ['c@ststest.mcove']);
  const testing = await retired(sender, 'c@ststest.mcove');
  assert.equal(testing.success, true);
  assert.equal(lastAttempt(testing).tls, 'starttls');
  const tls2 = await sender.store.queue.tlsResults('2000-01-01');
  assert.ok(tls2.some((t) => t.policyDomain === 'ststest.mcove' && t.policy === 'sts' && t.result === 'certificate-host-mismatch'));
  assert.deepEqual((await sender.store.queue.listMtaStsPolicies()).map((p) => p.domain), ['sts.mcove', 'stsbad.mcove', 'ststest.mcove']); // cached for the next delivery
});

test('DANE: a matching TLSA record delivers; a mismatching one defers; TLSA in an unsigned zone is ignored', { skip }, async () => {
  await submit(sender, ['a@dane.mcove']);
  const ok = await retired(sender, 'a@dane.mcove');
  assert.equal(ok.success, true);
  assert.equal(lastAttempt(ok).tls, 'dane');
  await submit(sender, ['b@danebad.mcove']);
  const deferred = await waitFor('deferred danebad', async () => { const r = await queued(sender, 'b@danebad.mcove'); return r && r.attempts > 0 ? r : undefined; });
  assert.match(deferred.lastError ?? '', /DANE/);
  await waitFor('b@danebad.mcove dropped', async () => ((await sender.queue!.drop({ to: 'b@danebad.mcove' })) === 1 ? true : undefined)); // not while a retry is in flight
  // RFC 8689 §5: 'TLS-Required: No' asks to deliver despite the policy failure.
  await submit(sender, ['relaxed@danebad.mcove'], { headers: 'TLS-Required: No\r\n' });
  const relaxed = await retired(sender, 'relaxed@danebad.mcove');
  assert.equal(relaxed.success, true);
  assert.equal(lastAttempt(relaxed).tls, 'starttls');
  await submit(sender, ['c@insecure.mcove']);
  const insecure = await retired(sender, 'c@insecure.mcove');
  assert.equal(insecure.success, true);
  assert.equal(lastAttempt(insecure).tls, 'starttls'); // the non-authentic TLSA answer was not used
  const tls = await sender.store.queue.tlsResults('2000-01-01');
  assert.ok(tls.some((t) => t.policyDomain === 'dane.mcove' && t.policy === 'tlsa' && t.result === 'success'));
  assert.ok(tls.some((t) => t.policyDomain === 'danebad.mcove' && t.policy === 'tlsa' && t.result === 'validation-failure'));
});

test('REQUIRETLS: delivered over DANE-verified TLS to a server offering it; without a verified policy it fails with a DSN', { skip }, async () => {
  await submit(sender, ['r@dane.mcove'], { params: 'REQUIRETLS' });
  const ok = await retired(sender, 'r@dane.mcove');
  assert.equal(ok.success, true);
  const got = (await receiver.messages('rcpt')).find((m) => m.includes('Hello r@dane.mcove'));
  assert.ok(got);
  await submit(sender, ['known@plain.mcove', 'r2@insecure.mcove'], { params: 'REQUIRETLS' });
  const failed = await retired(sender, 'r2@insecure.mcove');
  assert.equal(failed.success, false);
  assert.equal(lastAttempt(failed).enhanced, '5.7.30'); // RFC 8689 §5
  const dsn = await dsnFor(sender, 'r2@insecure.mcove');
  assert.match(dsn, /Action: failed/);
  assert.match(dsn, /Status: 5\.7\.30/);
});

test('null MX fails at once with 5.1.10 and a DSN', { skip }, async () => {
  await submit(sender, ['x@nullmx.mcove']);
  const r = await retired(sender, 'x@nullmx.mcove');
  assert.equal(r.success, false);
  assert.equal(r.attempts.length, 1);
  assert.equal(lastAttempt(r).enhanced, '5.1.10'); // RFC 7505 §4.2
  assert.match(await dsnFor(sender, 'x@nullmx.mcove'), /Status: 5\.1\.10/);
});

test('a 5xx for a recipient: failure DSN, the recipient suppressed; the next message to it fails without an attempt', { skip }, async () => {
  await submit(sender, ['No.Body@plain.mcove']);
  const r = await retired(sender, 'No.Body@plain.mcove');
  assert.equal(r.success, false);
  assert.equal(lastAttempt(r).code, 550);
  assert.equal(lastAttempt(r).enhanced, '5.1.1');
  const dsn = await dsnFor(sender, 'No.Body@plain.mcove');
  assert.match(dsn, /Action: failed/);
  assert.match(dsn, /Diagnostic-Code: smtp; .*550/);
  const sup = await sender.queue!.suppressions('mjl');
  assert.ok(sup.some((s) => s.base === 'nobody@plain.mcove'));
  await submit(sender, ['nobody+tag@plain.mcove']); // the same base address
  const again = await retired(sender, 'nobody+tag@plain.mcove');
  assert.equal(again.success, false);
  assert.equal(lastAttempt(again).transport, 'suppressed');
  await sender.queue!.removeSuppression('mjl', 'nobody@plain.mcove');
  assert.equal((await sender.queue!.suppressions('mjl')).length, 0);
});

test('hold rules hold new messages until released; FUTURERELEASE waits for its time', { skip }, async () => {
  const rule = await sender.queue!.addHoldRule({ account: '', senderDomain: '', recipientDomain: 'plain.mcove' });
  await submit(sender, ['known@plain.mcove'], { headers: 'X-Case: held\r\n' });
  const held = await waitFor('held', async () => { const r = await queued(sender, 'known@plain.mcove'); return r?.held ? r : undefined; });
  assert.equal(held.attempts, 0);
  await sender.queue!.removeHoldRule(rule.id);
  await new Promise((r) => setTimeout(r, 300));
  assert.ok((await queued(sender, 'known@plain.mcove'))?.held, 'still held after the rule is gone: release is explicit');
  assert.equal(await sender.queue!.release({ to: 'known@plain.mcove' }), 1);
  await waitFor('released delivery', async () => ((await queued(sender, 'known@plain.mcove')) ? undefined : true));
  assert.ok((await receiver.messages('rcpt')).some((m) => m.includes('X-Case: held')));

  const start = Date.now();
  await submit(sender, ['later@sts.mcove'], { params: 'HOLDFOR=2' }); // RFC 4865
  const r = await queued(sender, 'later@sts.mcove');
  assert.ok(r && r.nextAttempt.getTime() >= start + 1900);
  const done = await retired(sender, 'later@sts.mcove');
  assert.ok(done.retired.getTime() >= start + 1900, 'not delivered before the release time');
  assert.equal(done.success, true);
});

test('a 4xx, then success on the retry; plain SMTP when the server offers no STARTTLS', { skip }, async () => {
  // A scripted MX: greylists the first RCPT (451 4.7.1), accepts on the next connection.
  let connections = 0;
  const received: string[] = [];
  const server = createNet((sock: Socket) => {
    connections++;
    const n = connections;
    sock.write('220 greylist.test ESMTP\r\n');
    let buf = '';
    let data = false;
    let rcpts = 0;
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        if (data) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          received.push(buf.slice(0, end));
          buf = buf.slice(end + 5);
          data = false;
          sock.write('250 2.0.0 queued\r\n');
          continue;
        }
        const i = buf.indexOf('\r\n');
        if (i < 0) return;
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') sock.write('250-greylist.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n');
        else if (verb === 'MAIL') sock.write('250 2.1.0 ok\r\n');
        else if (verb === 'RCPT') {
          if (n > 1) rcpts++;
          sock.write(n === 1 ? '451 4.7.1 greylisted, try again later\r\n' : '250 2.1.5 ok\r\n');
        } else if (verb === 'DATA' && rcpts === 0) sock.write('554 5.5.1 no valid recipients\r\n'); // RFC 5321 §3.3
        else if (verb === 'DATA') { sock.write('354 go on\r\n'); data = true; }
        else if (verb === 'RSET') sock.write('250 2.0.0 ok\r\n');
        else if (verb === 'QUIT') { sock.end('221 2.0.0 bye\r\n'); return; }
        else sock.write('502 5.5.1 no\r\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const s2 = await smtpFixture({ resolver: dns.resolver, queue: { testing: { mxPort: (server.address() as AddressInfo).port, firstRetryMs: 200 } } });
  try {
    await submit(s2, ['grey@plain.mcove']);
    const r = await retired(s2, 'grey@plain.mcove');
    assert.equal(r.success, true);
    assert.equal(r.attempts.length, 2);
    assert.equal(r.attempts[0]!.code, 451);
    assert.equal(r.attempts[0]!.enhanced, '4.7.1');
    assert.equal(r.attempts[1]!.tls, 'none');
    assert.equal(received.length, 1);
    assert.match(received[0]!, /Hello grey@plain\.mcove/);
  } finally {
    await s2.done();
    server.close();
  }
});
