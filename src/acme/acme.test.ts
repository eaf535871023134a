// The parts of src/acme that need no CA: which names a provider covers, the stable host key,
// http-01 answers by token and host, one manager per provider. End to end: test/acme-pebble.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDomains, parseStatic } from '../config/index.ts';
import { loadListenerTls, TlsError } from '../tls/index.ts';
import { addHttpChallenge, httpChallengeResponse, removeHttpChallenge } from './challenges.ts';
import { acmeHostnames, hostKeySpkiSha256, loadAcme, AcmeError } from './index.ts';

const staticText = `hostname: mail.example.com
acme:
  le:
    directoryURL: https://acme.invalid/dir
    contactEmail: admin@example.com
listeners:
  public:
    ips: [0.0.0.0]
    tls: { acme: le }
    imaps: {}
    autoconfigHTTPS: {}
    mtastsHTTPS: {}
  internal:
    ips: [127.0.0.1]
    hostname: localhost.example.com
    tls: { selfSigned: true }
    imaps: {}
`;
const domainsText = `domains:
  example.com:
    mtaSts: { policyID: '1', mode: enforce }
  bücher.example: {}
`;

function configs() {
  const s = parseStatic('mailcove.conf', staticText);
  const d = parseDomains('domains.conf', domainsText);
  assert.ok(s.ok && d.ok);
  return { st: s.value, domains: d.value };
}

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mailcove-acme-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('a provider covers its listeners\' host names, autoconfig.<domain> and mta-sts.<domain> of domains with a policy, as A-labels', () => {
  const { st, domains } = configs();
  assert.deepEqual(acmeHostnames(st, domains, 'le').sort(), ['autoconfig.example.com', 'autoconfig.xn--bcher-kva.example', 'mail.example.com', 'mta-sts.example.com']);
  assert.deepEqual(acmeHostnames(st, domains, 'other'), []);
});

test('the host key is made once (0600) and its SPKI hash stays the same', async (t) => {
  const dataDir = await tempDir(t);
  const [a, b] = await Promise.all([1, 2].map(() => hostKeySpkiSha256({ dataDir, provider: 'le', name: 'Mail.Example.com.' })));
  assert.match(a!, /^[0-9a-f]{64}$/);
  assert.equal(a, b);
  assert.equal(await hostKeySpkiSha256({ dataDir, provider: 'le', name: 'mail.example.com' }), a);
  assert.equal((await stat(join(dataDir, 'acme', 'le', 'keys', 'mail.example.com.key.pem'))).mode & 0o777, 0o600);
  await assert.rejects(hostKeySpkiSha256({ dataDir, provider: 'le', name: '../x' }), /not a host name/);
});

test('an http-01 answer is given for a pending token, only to requests for its host (RFC 8555 §8.3)', () => {
  addHttpChallenge('tok', 'mail.example.com', 'tok.thumb');
  assert.equal(httpChallengeResponse('MAIL.example.com:80', 'tok'), 'tok.thumb');
  assert.equal(httpChallengeResponse('other.example.com', 'tok'), undefined);
  assert.equal(httpChallengeResponse('mail.example.com', 'other'), undefined);
  removeHttpChallenge('tok');
  assert.equal(httpChallengeResponse('mail.example.com', 'tok'), undefined);
});

test('a provider is loaded once per data directory; listeners need it loaded and their host name among its names', async (t) => {
  const dataDir = await tempDir(t);
  const { st, domains } = configs();
  const tls = st.listeners['public']!.tls!;
  const o = { tls, hostname: 'mail.example.com', ips: ['0.0.0.0'], configDir: dataDir, dataDir };
  await assert.rejects(loadListenerTls(o), (e) => e instanceof TlsError && /not loaded/.test(e.message));
  const m = await loadAcme({ provider: 'le', config: st.acme['le']!, dataDir, configDir: dataDir, names: acmeHostnames(st, domains, 'le') });
  await assert.rejects(loadAcme({ provider: 'le', config: st.acme['le']!, dataDir, configDir: dataDir, names: [] }), AcmeError);
  await loadListenerTls(o);
  await assert.rejects(loadListenerTls({ ...o, hostname: 'other.example.com' }), /not among the names/);
  await assert.rejects(m.certificate('other.example.com'), AcmeError); // never ordered
  assert.equal(m.ordersPlaced, 0);
  await m.close();
  await assert.rejects(loadListenerTls(o), /not loaded/);
  await (await loadAcme({ provider: 'le', config: st.acme['le']!, dataDir, configDir: dataDir, names: [] })).close();
});

test('an order at a CA that never answers fails at its deadline; no new order before the retry time', async (t) => {
  const dataDir = await tempDir(t);
  const { st, domains } = configs();
  const held: Array<import('node:http').ServerResponse> = [];
  const silent = createServer((_req, res) => void held.push(res)); // reads the request, answers only when the test ends
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    for (const res of held) res.writeHead(404).end(); // a final answer: acme-client gives up at once (it retries resets and 5xx for a minute)
    silent.close(() => resolve());
  }));
  const config = { ...st.acme['le']!, directoryURL: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/dir` };
  const m = await loadAcme({ provider: 'le', config, dataDir, configDir: dataDir, names: acmeHostnames(st, domains, 'le'), orderTimeoutMs: 300 });
  const started = Date.now();
  await assert.rejects(m.certificate('mail.example.com'), (e) => e instanceof AcmeError && /ACME order for mail\.example\.com took longer than/.test(e.message));
  assert.ok(Date.now() - started < 5000);
  await assert.rejects(m.certificate('mail.example.com'), /the last order failed .*took longer than.*next attempt after/);
  await m.close(); // nothing left to wait for
});
