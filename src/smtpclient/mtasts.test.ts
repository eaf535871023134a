// MTA-STS: the record and policy parsers against RFC 8461's examples and grammar, MX
// matching, and the policy fetch and cache against a real HTTPS server on 127.0.0.1 with
// a certificate from a test CA that openssl makes at test time. DNS is a MemoryResolver.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { MemoryResolver } from '../dns/index.ts';
import { fetchPolicy, MemoryPolicyStorage, parseMtaStsRecord, parsePolicy, policyMatchesHost, refreshDue, resolvePolicy, StsFetchBackoff, type CachedPolicy, type MtaStsPolicy } from './mtasts.ts';

// ---- parsers ----

test('TXT record: the RFC 8461 §3.1 example, with and without the final ";", extensions ignored', () => {
  assert.deepEqual(parseMtaStsRecord('v=STSv1; id=20160831085700Z;'), { id: '20160831085700Z' });
  assert.deepEqual(parseMtaStsRecord('v=STSv1; id=20160831085700Z'), { id: '20160831085700Z' });
  assert.deepEqual(parseMtaStsRecord('v=STSv1;id=abc123;ext_1.x=v!al:ue'), { id: 'abc123' });
  assert.deepEqual(parseMtaStsRecord('v=STSv1 ;\tid=x ; '), { id: 'x' }); // sts-sep = *WSP ";" *WSP
  assert.deepEqual(parseMtaStsRecord(`v=STSv1; id=${'a'.repeat(32)}`), { id: 'a'.repeat(32) });
});

test('TXT record: wrong version, case, id syntax, missing or repeated id are errors', () => {
  for (const bad of [
    'v=STSv2; id=1',
    'v=stsv1; id=1', // %s"v=STSv1": case-sensitive
    ' v=STSv1; id=1',
    'v=STSv1',
    'v=STSv1;',
    'v=STSv1; ext=1', // no id
    'v=STSv1; id=', // 1*32
    `v=STSv1; id=${'a'.repeat(33)}`,
    'v=STSv1; id=2016-08-31', // ALPHA / DIGIT only
    'v=STSv1; ID=1', // %s"id=" is case-sensitive: an extension, so no id
    'v=STSv1; id=1; id=2',
    'v=STSv1;; id=1',
    'v=STSv1; id=1; ext=a b', // sts-ext-value excludes SP
    'v=STSv1; id=1; =x',
  ]) assert.ok('error' in parseMtaStsRecord(bad), bad);
});

const rfcPolicy = 'version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n'; // RFC 8461 §3.2

test('policy: the RFC 8461 §3.2 example, with CRLF or LF lines', () => {
  const want: MtaStsPolicy = { mode: 'enforce', mx: ['mail.example.com', '*.example.net', 'backupmx.example.com'], maxAge: 604800 };
  assert.deepEqual(parsePolicy(rfcPolicy), want);
  assert.deepEqual(parsePolicy(rfcPolicy.replace(/\r\n/g, '\n')), want);
  assert.deepEqual(parsePolicy(rfcPolicy.replace(/\r\n$/, '')), want); // the last terminator is optional
});

test('policy: mode none needs no mx; unknown fields, trailing whitespace and any field order are accepted; mx lowercased', () => {
  assert.deepEqual(parsePolicy('version: STSv1\nmode: none\nmax_age: 0\n'), { mode: 'none', mx: [], maxAge: 0 });
  assert.deepEqual(parsePolicy('mode:testing  \nfuture_key: anything at all, ünïcode\nmx: MAIL.Example.COM\t\nversion: STSv1\nmax_age: 31557600\n'), { mode: 'testing', mx: ['mail.example.com'], maxAge: 31557600 });
});

test('policy: missing or bad version, mode, max_age and mx are errors', () => {
  const base = { version: 'version: STSv1', mode: 'mode: enforce', mx: 'mx: mail.example.com', max_age: 'max_age: 86400' };
  const policy = (o: Partial<Record<keyof typeof base, string>>) => Object.values({ ...base, ...o }).filter((l) => l !== '').join('\n');
  assert.ok(!('error' in parsePolicy(policy({}))));
  for (const [why, text] of [
    ['no version', policy({ version: '' })],
    ['version STSv2', policy({ version: 'version: STSv2' })],
    ['no mode', policy({ mode: '' })],
    ['"Mode" is an unknown field, so mode is missing', policy({ mode: 'Mode: enforce' })],
    ['mode Enforce', policy({ mode: 'mode: Enforce' })],
    ['two modes', policy({ mode: 'mode: enforce\nmode: testing' })],
    ['no max_age', policy({ max_age: '' })],
    ['max_age above a year', policy({ max_age: 'max_age: 31557601' })],
    ['max_age of 11 digits', policy({ max_age: 'max_age: 00000000001' })],
    ['negative max_age', policy({ max_age: 'max_age: -1' })],
    ['no mx with enforce', policy({ mx: '' })],
    ['wildcard in the middle', policy({ mx: 'mx: *.*.example.com' })],
    ['partial wildcard', policy({ mx: 'mx: *example.com' })],
    ['underscore in mx', policy({ mx: 'mx: mail_1.example.com' })],
    ['empty mx', policy({ mx: 'mx:' })],
    ['not a field', policy({}) + '\n<html>'],
  ] as const) assert.ok('error' in parsePolicy(text), why);
});

test('MX matching (RFC 8461 §4.1): case-insensitive; "*." matches exactly one left-most label', () => {
  const p: MtaStsPolicy = { mode: 'enforce', mx: ['mail.example.com', '*.example.net'], maxAge: 86400 };
  assert.equal(policyMatchesHost(p, 'mail.example.com'), true);
  assert.equal(policyMatchesHost(p, 'MAIL.Example.com.'), true);
  assert.equal(policyMatchesHost(p, 'mx1.example.net'), true);
  assert.equal(policyMatchesHost(p, 'example.net'), false);
  assert.equal(policyMatchesHost(p, 'a.mx1.example.net'), false);
  assert.equal(policyMatchesHost(p, 'xexample.net'), false);
  assert.equal(policyMatchesHost(p, 'mail.example.com.evil.test'), false);
  assert.equal(policyMatchesHost(p, 'other.example.com'), false);
});

// ---- a Policy Host on 127.0.0.1 ----

let dir = '';
let caPEM = '';
let server: Server;
let port = 0;
let requests: string[] = []; // "host path" of every request the server got
let respond: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(500).end();

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.error) throw r.error; // openssl is a test tool: missing is a failure
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailcove-mtasts-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Mailcove MTA-STS test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  openssl(['req', '-new', ...ec, '-keyout', 'host.key', '-out', 'host.csr', '-subj', '/CN=mta-sts.example.test']);
  await writeFile(join(dir, 'host.ext'), 'subjectAltName=DNS:mta-sts.example.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'host.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '2', '-days', '2', '-extfile', 'host.ext', '-out', 'host.pem']);
  caPEM = await readFile(join(dir, 'ca.pem'), 'utf8');
  server = createServer({ key: await readFile(join(dir, 'host.key')), cert: await readFile(join(dir, 'host.pem')) }, (req, res) => {
    requests.push(`${req.headers.host ?? ''} ${req.url ?? ''}`);
    respond(req, res);
  });
  server.on('tlsClientError', () => {}); // the certificate tests make clients hang up mid-handshake
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

/** A resolver that knows the Policy Hosts (127.0.0.1) and the given _mta-sts TXT records of example.test. */
function dns(...txt: string[]): MemoryResolver {
  const r = new MemoryResolver().add('mta-sts.example.test', 'A', ['127.0.0.1']).add('mta-sts.other.test', 'A', ['127.0.0.1']);
  for (const t of txt) r.addTXT('_mta-sts.example.test', t);
  return r;
}

function serve(status: number, body: string | Buffer, headers: Record<string, string | number> = { 'content-type': 'text/plain; charset=utf-8' }): void {
  respond = (_req, res) => res.writeHead(status, headers).end(body);
}

const opts = (resolver = dns()) => ({ resolver, port, ca: [caPEM] });

test('fetch: a 200 text/plain policy from https://mta-sts.<domain>/.well-known/mta-sts.txt, host resolved by our resolver', async () => {
  serve(200, rfcPolicy);
  requests = [];
  const resolver = dns();
  const r = await fetchPolicy('Example.Test', opts(resolver));
  assert.ok('policy' in r, JSON.stringify(r));
  assert.equal(r.policy.mode, 'enforce');
  assert.equal(r.text, rfcPolicy);
  assert.deepEqual(requests, [`mta-sts.example.test:${port} /.well-known/mta-sts.txt`]);
  assert.ok(resolver.queries.includes('mta-sts.example.test/A'));
});

test('fetch: a certificate not valid for mta-sts.<domain> is sts-webpki-invalid, and so is an untrusted CA', async () => {
  serve(200, rfcPolicy);
  requests = [];
  const wrongName = await fetchPolicy('other.test', opts());
  assert.ok('error' in wrongName);
  assert.equal(wrongName.failure, 'sts-webpki-invalid');
  assert.match(wrongName.error, /mta-sts\.other\.test/);
  const untrusted = await fetchPolicy('example.test', { resolver: dns(), port });
  assert.ok('error' in untrusted);
  assert.equal(untrusted.failure, 'sts-webpki-invalid');
  assert.deepEqual(requests, [], 'no request is sent over an unverified connection');
});

test('fetch: 404, a redirect (not followed), and a non-text/plain type are sts-policy-fetch-error', async () => {
  serve(404, 'not found');
  let r = await fetchPolicy('example.test', opts());
  assert.ok('error' in r && r.failure === 'sts-policy-fetch-error' && /HTTP status 404/.test(r.error), JSON.stringify(r));

  requests = [];
  serve(301, '', { location: 'https://mta-sts.example.test/elsewhere.txt' });
  r = await fetchPolicy('example.test', opts());
  assert.ok('error' in r && r.failure === 'sts-policy-fetch-error' && /301 redirect to https:\/\/mta-sts\.example\.test\/elsewhere\.txt not followed/.test(r.error), JSON.stringify(r));
  assert.equal(requests.length, 1, 'the redirect is not followed');

  serve(200, `<html>${rfcPolicy}</html>`, { 'content-type': 'text/html' });
  r = await fetchPolicy('example.test', opts());
  assert.ok('error' in r && r.failure === 'sts-policy-fetch-error' && /Content-Type "text\/html", expected text\/plain/.test(r.error), JSON.stringify(r));

  serve(200, rfcPolicy, {});
  r = await fetchPolicy('example.test', opts());
  assert.ok('error' in r && /Content-Type ""/.test(r.error), JSON.stringify(r));

  serve(200, rfcPolicy, { 'content-type': 'Text/Plain;charset="us-ascii"' });
  assert.ok('policy' in (await fetchPolicy('example.test', opts())), 'media type is case-insensitive, parameters allowed');
});

test('fetch: a body over 64 KiB is refused, streamed or announced', async () => {
  const big = rfcPolicy + `x-padding: ${'x'.repeat(64 * 1024)}\n`;
  respond = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }); // chunked: no Content-Length
    for (let i = 0; i < big.length; i += 4096) res.write(big.slice(i, i + 4096));
    res.end();
  };
  let r = await fetchPolicy('example.test', opts());
  assert.ok('error' in r && r.failure === 'sts-policy-fetch-error' && /larger than the 65536 bytes/.test(r.error), JSON.stringify(r));
  serve(200, big, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(big) });
  r = await fetchPolicy('example.test', opts());
  assert.ok('error' in r && /Content-Length \d+ is more than the 65536 bytes/.test(r.error), JSON.stringify(r));
  // Exactly 64 KiB is fine.
  const exact = rfcPolicy + `x-padding: ${'x'.repeat(64 * 1024 - rfcPolicy.length - 12)}\n`;
  assert.equal(Buffer.byteLength(exact), 64 * 1024);
  serve(200, exact);
  assert.ok('policy' in (await fetchPolicy('example.test', opts())));
});

test('fetch: a body that is not a policy is sts-policy-invalid', async () => {
  serve(200, 'version: STSv1\nmode: enforce\nmax_age: 86400\n');
  const r = await fetchPolicy('example.test', opts());
  assert.ok('error' in r && r.failure === 'sts-policy-invalid' && /invalid policy: no mx field/.test(r.error), JSON.stringify(r));
});

test('fetch: a Policy Host without address records, or one that does not answer in time, is sts-policy-fetch-error', async () => {
  const r = await fetchPolicy('nowhere.test', opts());
  assert.ok('error' in r && r.failure === 'sts-policy-fetch-error' && /looking up mta-sts\.nowhere\.test: .*nxdomain/.test(r.error), JSON.stringify(r));
  respond = () => {}; // never answers
  const start = Date.now();
  const slow = await fetchPolicy('example.test', { ...opts(), timeoutMs: 300 });
  assert.ok('error' in slow && slow.failure === 'sts-policy-fetch-error' && /no complete response within 300 ms/.test(slow.error), JSON.stringify(slow));
  assert.ok(Date.now() - start < 5000);
  server.closeAllConnections();
});

// ---- the policy cache ----

const policyText = (mode: string) => `version: STSv1\nmode: ${mode}\nmx: mail.example.test\nmax_age: 86400\n`;
const day = 86_400_000;

test('resolve: no _mta-sts record and nothing cached is no policy, without a fetch', async () => {
  requests = [];
  const storage = new MemoryPolicyStorage();
  assert.deepEqual(await resolvePolicy('example.test', { ...opts(dns('v=spf1 -all')), storage }), { policy: undefined, fromCache: false });
  assert.deepEqual(requests, []);
  assert.equal(storage.policies.size, 0);
});

test('resolve: fetched and stored; the same id later comes from the cache; a new id fetches again', async () => {
  const storage = new MemoryPolicyStorage();
  let now = 1_000_000;
  const o = (...txt: string[]) => ({ ...opts(dns(...txt)), storage, now: () => now });
  serve(200, policyText('testing'));
  requests = [];
  const first = await resolvePolicy('example.test', o('v=spf1 -all', 'v=STSv1; id=one;')); // non-STSv1 TXT records are ignored
  assert.deepEqual(first, { policy: { mode: 'testing', mx: ['mail.example.test'], maxAge: 86400 }, id: 'one', fromCache: false });
  assert.deepEqual(storage.policies.get('example.test'), { id: 'one', policy: first.policy, fetched: now, expires: now + day });
  assert.equal(requests.length, 1);

  now += day / 2;
  serve(200, policyText('enforce'));
  const cached = await resolvePolicy('example.test', o('v=STSv1; id=one'));
  assert.deepEqual(cached, { policy: first.policy, id: 'one', fromCache: true });
  assert.equal(requests.length, 1, 'same id: no fetch');

  const renewed = await resolvePolicy('example.test', o('v=STSv1; id=two'));
  assert.deepEqual(renewed, { policy: { mode: 'enforce', mx: ['mail.example.test'], maxAge: 86400 }, id: 'two', fromCache: false });
  assert.equal(requests.length, 2);
  assert.equal(storage.policies.get('example.test')?.id, 'two');
  assert.equal(storage.policies.get('example.test')?.expires, now + day);
});

test('resolve: an expired cached policy is fetched again even with the same id, and never used', async () => {
  const storage = new MemoryPolicyStorage();
  const old: CachedPolicy = { id: 'one', policy: { mode: 'enforce', mx: ['old.example.test'], maxAge: 60 }, fetched: 0, expires: 60_000 };
  await storage.put('example.test', old);
  serve(200, policyText('testing'));
  const r = await resolvePolicy('example.test', { ...opts(dns('v=STSv1; id=one')), storage, now: () => 60_000 });
  assert.equal(r.fromCache, false);
  assert.equal(r.policy?.mode, 'testing');
  serve(404, '');
  const gone = await resolvePolicy('example.test', { ...opts(dns('v=STSv1; id=two')), storage: new MemoryPolicyStorage([['example.test', old]]), now: () => 60_000 });
  assert.deepEqual(gone, { policy: undefined, fromCache: false, failure: 'sts-policy-fetch-error' });
});

test('resolve: a failed fetch falls back to the unexpired cached policy and reports the failure; without one, no policy', async () => {
  const cachedPolicy: MtaStsPolicy = { mode: 'enforce', mx: ['mail.example.test'], maxAge: 86400 };
  const storage = new MemoryPolicyStorage([['example.test', { id: 'one', policy: cachedPolicy, fetched: 0, expires: day }]]);
  serve(404, 'not found');
  const r = await resolvePolicy('example.test', { ...opts(dns('v=STSv1; id=two')), storage, now: () => 1000 });
  assert.deepEqual(r, { policy: cachedPolicy, id: 'one', fromCache: true, failure: 'sts-policy-fetch-error' });
  assert.equal(storage.policies.get('example.test')?.id, 'one', 'the cached policy stays');

  serve(200, 'version: STSv1\nmode: enforce\n');
  assert.deepEqual(await resolvePolicy('example.test', { ...opts(dns('v=STSv1; id=two')), storage: new MemoryPolicyStorage(), now: () => 1000 }), { policy: undefined, fromCache: false, failure: 'sts-policy-invalid' });
});

test('resolve: without a usable record (none, two STSv1 records, invalid) the unexpired cached policy still applies', async () => {
  const cachedPolicy: MtaStsPolicy = { mode: 'enforce', mx: ['mail.example.test'], maxAge: 86400 };
  const storage = new MemoryPolicyStorage([['example.test', { id: 'one', policy: cachedPolicy, fetched: 0, expires: day }]]);
  requests = [];
  for (const txt of [[], ['v=STSv1; id=two', 'v=STSv1; id=three'], ['v=STSv1; id=not-valid']]) {
    assert.deepEqual(await resolvePolicy('example.test', { ...opts(dns(...txt)), storage, now: () => 1000 }), { policy: cachedPolicy, id: 'one', fromCache: true }, JSON.stringify(txt));
  }
  assert.deepEqual(requests, [], 'two STSv1 records count as none (RFC 8461 §3.1): no fetch');
});

test('resolve: a temporary DNS error uses the cached policy, else no policy; both marked temporary', async () => {
  const cachedPolicy: MtaStsPolicy = { mode: 'testing', mx: ['mail.example.test'], maxAge: 86400 };
  const failing = () => dns().fail('_mta-sts.example.test', 'TXT', 'servfail');
  const storage = new MemoryPolicyStorage([['example.test', { id: 'one', policy: cachedPolicy, fetched: 0, expires: day }]]);
  assert.deepEqual(await resolvePolicy('example.test', { ...opts(failing()), storage, now: () => 1000 }), { policy: cachedPolicy, id: 'one', fromCache: true, temporary: true });
  assert.deepEqual(await resolvePolicy('example.test', { ...opts(failing()), storage: new MemoryPolicyStorage(), now: () => 1000 }), { policy: undefined, fromCache: false, temporary: true });
});

test('resolve: with a backoff, a failed fetch is not repeated for the same id within five minutes (RFC 8461 §3.3)', async () => {
  const backoff = new StsFetchBackoff();
  let now = 0;
  const o = () => ({ ...opts(dns('v=STSv1; id=one')), storage: new MemoryPolicyStorage(), now: () => now, backoff });
  serve(503, 'busy');
  requests = [];
  assert.equal((await resolvePolicy('example.test', o())).failure, 'sts-policy-fetch-error');
  now += 4 * 60_000;
  assert.deepEqual(await resolvePolicy('example.test', o()), { policy: undefined, fromCache: false, failure: 'sts-policy-fetch-error' });
  assert.equal(requests.length, 1, 'not fetched again within five minutes');
  now += 60_000;
  serve(200, policyText('enforce'));
  assert.equal((await resolvePolicy('example.test', o())).policy?.mode, 'enforce');
  assert.equal(requests.length, 2);
});

test('refresh: due daily (half the age for short policies), and resolve with refresh fetches despite the same id', async () => {
  const long: CachedPolicy = { id: 'one', policy: { mode: 'enforce', mx: ['mail.example.test'], maxAge: 7 * 86400 }, fetched: 0, expires: 7 * day };
  assert.equal(refreshDue(long, day - 1), false);
  assert.equal(refreshDue(long, day), true);
  assert.equal(refreshDue(long, 7 * day), false, 'expired: a plain resolve fetches it');
  const short: CachedPolicy = { ...long, policy: { ...long.policy, maxAge: 3600 }, expires: 3_600_000 };
  assert.equal(refreshDue(short, 1_799_999), false);
  assert.equal(refreshDue(short, 1_800_000), true);

  const storage = new MemoryPolicyStorage([['example.test', long]]);
  serve(200, policyText('enforce'));
  requests = [];
  const r = await resolvePolicy('example.test', { ...opts(dns('v=STSv1; id=one')), storage, now: () => day, refresh: true });
  assert.deepEqual(r, { policy: { mode: 'enforce', mx: ['mail.example.test'], maxAge: 86400 }, id: 'one', fromCache: false });
  assert.equal(requests.length, 1);
  assert.deepEqual(storage.policies.get('example.test'), { id: 'one', policy: r.policy, fetched: day, expires: 2 * day });
});
