// Client setup over HTTP, through a real listener: Thunderbird's autoconfig XML, Outlook's
// autodiscover, the Apple profile (each read back by Python's XML and plist parsers, which
// we did not write), the MTA-STS policy read by our sending side's parser, host checks
// against domains.conf and hostile requests.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { test, before, after } from 'node:test';
import { appleProfile, autoconfigSurfaces, mtaStsPolicy, mtaStsSurfaces, uuidV5 } from '../src/autoconfig/index.ts';
import { parseDomains, parseStatic, type DomainsConfig, type StaticConfig } from '../src/config/index.ts';
import { startHttp, type HttpServers } from '../src/http/index.ts';
import { parsePolicy, policyMatchesHost } from '../src/smtpclient/index.ts';

const python = spawnSync('python3', ['--version']).status === 0;
if (!python && process.env['CI'] === 'true') throw new Error('python3 is not installed');
const needsPython = { skip: python ? false : 'python3 not installed' };

const staticText = `hostname: mail.example.com
listeners:
  public:
    ips: [127.0.0.1]
    tls:
      selfSigned: true
    smtp: {}
    submission: {}
    submissions: {}
    imap: {}
    imaps: {}
    autoconfigHTTPS: {}
    mtastsHTTPS: {}
`;

const domainsText = `domains:
  example.com:
    dkim:
      selectors:
        2026a:
          privateKeyFile: dkim/does-not-exist.pem
      sign: [2026a]
    mtaSts:
      policyID: 20260101T000000
      mode: enforce
      mx: ['*.Backup.example.com']
      maxAgeSeconds: 604800
  other.example: {}
  bücher.example: {}
accounts:
  mjl:
    domain: example.com
    destinations:
      mjl@example.com: {}
`;

function parsed<T>(r: { ok: true; value: T } | { ok: false; problems: unknown[] }): T {
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.value;
}
const st: StaticConfig = parsed(parseStatic('mailcove.conf', staticText));
const domains: DomainsConfig = parsed(parseDomains('domains.conf', domainsText));
const sources = { static: () => st, domains: () => domains };

let servers: HttpServers;
let port = 0;
before(async () => {
  // Beside an account page at '/', as on a shared port 443: the prefixes must not clash.
  const account = { path: '/', handler: (c: { res: import('node:http').ServerResponse }) => void c.res.writeHead(200).end('account page') };
  servers = await startHttp({ listeners: [{ ip: '127.0.0.1', port: 0, surfaces: [account, ...autoconfigSurfaces(sources), ...mtaStsSurfaces(sources)] }] });
  port = servers.addresses[0]!.port;
});
after(() => servers.close());

interface Response { status: number; headers: import('node:http').IncomingHttpHeaders; body: string }

function http(method: string, host: string, path: string, o: { body?: string | Buffer; headers?: Record<string, string>; chunked?: boolean } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const length = o.body !== undefined && !o.chunked ? { 'content-length': String(Buffer.byteLength(o.body)) } : {};
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host, ...length, ...o.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    if (o.chunked && o.body !== undefined) {
      const b = Buffer.from(o.body);
      for (let i = 0; i < b.length; i += 16 * 1024) req.write(b.subarray(i, i + 16 * 1024));
      req.end();
    } else req.end(o.body);
  });
}

function py(script: string, input: string): unknown {
  const r = spawnSync('python3', ['-c', script], { input, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as unknown;
}

// Reads config-v1.1.xml the way Thunderbird's fetchConfig reads it: element by element.
const readAutoconfig = `
import sys, json, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
assert root.tag == 'clientConfig', root.tag
p = root.find('emailProvider')
def server(s):
    return {'type': s.get('type'), 'hostname': s.findtext('hostname'), 'port': int(s.findtext('port')), 'socketType': s.findtext('socketType'),
            'username': s.findtext('username'), 'authentication': [a.text for a in s.findall('authentication')]}
print(json.dumps({'version': root.get('version'), 'id': p.get('id'), 'domains': [d.text for d in p.findall('domain')], 'displayName': p.findtext('displayName'),
  'incoming': [server(s) for s in p.findall('incomingServer')], 'outgoing': [server(s) for s in p.findall('outgoingServer')]}))
`;

const tb = (type: string, port: number, socketType: string) => ({ type, hostname: 'mail.example.com', port, socketType, username: '%EMAILADDRESS%', authentication: ['password-encrypted'] });
const expectedAutoconfig = {
  version: '1.1', id: 'example.com', domains: ['example.com'], displayName: 'example.com',
  incoming: [tb('imap', 993, 'SSL'), tb('imap', 143, 'STARTTLS')], // RFC 8314 §5.1: implicit TLS first
  outgoing: [tb('smtp', 465, 'SSL'), tb('smtp', 587, 'STARTTLS')],
};

test('autoconfig.<domain>/mail/config-v1.1.xml gives Thunderbird IMAP and SMTP with TLS, CRAM-MD5 and the typed address', needsPython, async () => {
  const r = await http('GET', 'autoconfig.example.com', '/mail/config-v1.1.xml?emailaddress=mjl%40example.com');
  assert.equal(r.status, 200, r.body);
  assert.match(String(r.headers['content-type']), /^application\/xml/);
  assert.deepEqual(py(readAutoconfig, r.body), expectedAutoconfig);
});

test('the same document at <domain>/.well-known/autoconfig/, on the mail host name by address, and for HEAD', needsPython, async () => {
  for (const [host, path] of [['Example.COM:443', '/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=mjl%40example.com'], ['example.com', '/.well-known/autoconfig/mail/config-v1.1.xml'], ['mail.example.com', '/mail/config-v1.1.xml?emailaddress=Someone%2Bx%40EXAMPLE.com'], ['autoconfig.example.com', '/mail/config-v1.1.xml']] as const) {
    const r = await http('GET', host, path);
    assert.equal(r.status, 200, `${host}${path}: ${r.body}`);
    assert.deepEqual(py(readAutoconfig, r.body), expectedAutoconfig, `${host}${path}`);
  }
  const head = await http('HEAD', 'autoconfig.example.com', '/mail/config-v1.1.xml');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

test('an IDN domain is named by its A-labels for the client, its U-labels for the reader', needsPython, async () => {
  const r = await http('GET', 'autoconfig.xn--bcher-kva.example', '/mail/config-v1.1.xml?emailaddress=info%40b%C3%BCcher.example');
  assert.equal(r.status, 200, r.body);
  const p = py(readAutoconfig, r.body) as typeof expectedAutoconfig;
  assert.deepEqual([p.id, p.domains, p.displayName], ['xn--bcher-kva.example', ['xn--bcher-kva.example'], 'bücher.example']);
});

test('unknown hosts and domains get 404; the mail host name needs an address', async () => {
  const cases: Array<[string, string]> = [
    ['autoconfig.unknown.example', '/mail/config-v1.1.xml?emailaddress=a%40unknown.example'],
    ['autoconfig.unknown.example', '/mail/config-v1.1.xml?emailaddress=mjl%40example.com'], // not our host
    ['mail.example.com', '/mail/config-v1.1.xml?emailaddress=a%40unknown.example'], // our host, domain not configured
    ['autoconfig.example.com', '/mail/config-v1.1.xml?emailaddress=a%40unknown.example'],
    ['mail.example.com', '/mail/config-v1.1.xml'],
    ['127.0.0.1', '/mail/config-v1.1.xml?emailaddress=mjl%40example.com'],
    ['autoconfig.example.com', '/mail/other.xml'],
    ['autoconfig.example.com', '/.well-known/autoconfig/mail/other.xml'],
    ['mail.example.com', '/mail/apple.mobileconfig?email=a%40unknown.example'],
  ];
  for (const [host, path] of cases) assert.equal((await http('GET', host, path)).status, 404, `${host}${path}`);
  assert.equal((await http('GET', 'autoconfig.example.com', '/')).body, 'account page'); // other paths stay the account page's
  const post = await http('POST', 'autoconfig.example.com', '/mail/config-v1.1.xml', { body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
});

test('odd addresses: markup characters in a valid localpart cannot break the documents; invalid addresses get 400', needsPython, async () => {
  const odd = "a&b'c<!--@example.com"; // not an address: '<' is no atext (RFC 5322 §3.2.3)
  assert.equal((await http('GET', 'autoconfig.example.com', `/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(odd)}`)).status, 400);
  assert.equal((await http('GET', 'mail.example.com', `/mail/apple.mobileconfig?email=${encodeURIComponent('x\u0001y@example.com')}`)).status, 400);
  const amp = "a&b'c{x}@example.com"; // atext all of it
  const r = await http('GET', 'autoconfig.example.com', `/mail/config-v1.1.xml?emailaddress=${encodeURIComponent(amp)}`);
  assert.equal(r.status, 200);
  assert.deepEqual(py(readAutoconfig, r.body), expectedAutoconfig);
});

// ---- Autodiscover (MS-OXDSCLI) ----

const autodiscoverRequest = (address: string, extra = '') => `<?xml version="1.0" encoding="utf-8"?>${extra}
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>${address}</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>`;

const readAutodiscover = `
import sys, json, xml.etree.ElementTree as ET
ns = {'a': 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006', 'o': 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a'}
root = ET.fromstring(sys.stdin.buffer.read())
assert root.tag == '{%s}Autodiscover' % ns['a'], root.tag
acc = root.find('o:Response/o:Account', ns)
def proto(p):
    return {c.tag.split('}')[1]: c.text for c in p}
print(json.dumps({'accountType': acc.findtext('o:AccountType', namespaces=ns), 'action': acc.findtext('o:Action', namespaces=ns), 'protocols': [proto(p) for p in acc.findall('o:Protocol', ns)]}))
`;

const outlook = (type: string, port: number, login: string) => ({ Type: type, Server: 'mail.example.com', Port: String(port), LoginName: login, SPA: 'off', SSL: 'on', Encryption: 'SSL', AuthRequired: 'on' });

test('autodiscover answers Outlook schema 2006a with IMAP and SMTP over implicit TLS', needsPython, async () => {
  for (const host of ['autodiscover.example.com', 'example.com', 'mail.example.com', 'autoconfig.example.com']) {
    const r = await http('POST', host, '/autodiscover/autodiscover.xml', { body: autodiscoverRequest('mjl@example.com'), headers: { 'content-type': 'text/xml' } });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(py(readAutodiscover, r.body), { accountType: 'email', action: 'settings', protocols: [outlook('IMAP', 993, 'mjl@example.com'), outlook('SMTP', 465, 'mjl@example.com')] });
  }
  const caps = await http('POST', 'autodiscover.example.com', '/Autodiscover/Autodiscover.xml', { body: autodiscoverRequest('mjl@example.com') });
  assert.equal(caps.status, 200);
});

test('autodiscover decodes entities in the address and escapes them in the answer; a comment cannot smuggle an address', needsPython, async () => {
  const r = await http('POST', 'example.com', '/autodiscover/autodiscover.xml', { body: autodiscoverRequest('a&amp;b&#39;c@example.com') });
  assert.equal(r.status, 200, r.body);
  const p = py(readAutodiscover, r.body) as { protocols: Array<{ LoginName: string }> };
  assert.deepEqual(p.protocols.map((x) => x.LoginName), ["a&b'c@example.com", "a&b'c@example.com"]);
  const smuggled = autodiscoverRequest('mjl@example.com').replace('<Request>', '<Request><!-- <EMailAddress>evil@other.example</EMailAddress> --><![CDATA[ <EMailAddress>x@other.example</EMailAddress> ]]>');
  const s = await http('POST', 'example.com', '/autodiscover/autodiscover.xml', { body: smuggled });
  assert.equal(s.status, 200, s.body);
  assert.deepEqual((py(readAutodiscover, s.body) as { protocols: Array<{ LoginName: string }> }).protocols.map((x) => x.LoginName), ['mjl@example.com', 'mjl@example.com']);
});

test('autodiscover refuses DOCTYPE, unknown entities, malformed XML, two addresses, and other schemas', async () => {
  const bad: Array<[string, number]> = [
    [autodiscoverRequest('&x;', '<!DOCTYPE a [<!ENTITY x "mjl@example.com">]>'), 400],
    [autodiscoverRequest('mjl@example.com', '<!DOCTYPE Autodiscover>'), 400],
    [autodiscoverRequest('&xxe;'), 400],
    [autodiscoverRequest('mjl@example.com').replace('</Request>', '</request>'), 400],
    [autodiscoverRequest('mjl@example.com').replace('</Request>', '<EMailAddress>b@example.com</EMailAddress></Request>'), 400],
    [autodiscoverRequest('mjl@example.com') + '<Autodiscover/>', 400],
    [autodiscoverRequest('not-an-address'), 400],
    [autodiscoverRequest('x@unknown.example'), 404],
    [autodiscoverRequest('mjl@example.com').replace('outlook/responseschema/2006a', 'mobilesync/responseschema/2006'), 404],
    ['\xff\xfe<Autodiscover/>', 400],
  ];
  for (const [body, status] of bad) {
    const r = await http('POST', 'autodiscover.example.com', '/autodiscover/autodiscover.xml', { body: Buffer.from(body, body.startsWith('\xff') ? 'latin1' : 'utf8') });
    assert.equal(r.status, status, `${body}: ${r.body}`);
  }
  assert.equal((await http('POST', 'autodiscover.unknown.example', '/autodiscover/autodiscover.xml', { body: autodiscoverRequest('mjl@example.com') })).status, 404);
  const get = await http('GET', 'autodiscover.example.com', '/autodiscover/autodiscover.xml');
  assert.equal(get.status, 405);
  assert.equal(get.headers.allow, 'POST');
});

test('an autodiscover request over 64 KiB gets 413, declared or chunked', async () => {
  const big = autodiscoverRequest('mjl@example.com', `<!-- ${'x'.repeat(70 * 1024)} -->`);
  const declared = await http('POST', 'autodiscover.example.com', '/autodiscover/autodiscover.xml', { body: big });
  assert.equal(declared.status, 413);
  const chunked = await http('POST', 'autodiscover.example.com', '/autodiscover/autodiscover.xml', { body: big, chunked: true });
  assert.equal(chunked.status, 413);
  const fits = autodiscoverRequest('mjl@example.com', `<!-- ${'x'.repeat(60 * 1024)} -->`);
  assert.equal((await http('POST', 'autodiscover.example.com', '/autodiscover/autodiscover.xml', { body: fits, chunked: true })).status, 200);
});

// ---- Apple configuration profile ----

const readPlist = `
import sys, json, plistlib
p = plistlib.loads(sys.stdin.buffer.read(), fmt=plistlib.FMT_XML)
print(json.dumps(p))
`;

test('the Apple profile is a well-formed plist with one com.apple.mail.managed payload', needsPython, async () => {
  const r = await http('GET', 'mail.example.com', '/mail/apple.mobileconfig?email=mjl%40example.com');
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers['content-type'], 'application/x-apple-aspen-config');
  assert.equal(r.headers['content-disposition'], 'attachment; filename="example.com.mobileconfig"');
  const p = py(readPlist, r.body) as Record<string, unknown> & { PayloadContent: Array<Record<string, unknown>> };
  assert.equal(p['PayloadType'], 'Configuration');
  assert.equal(p['PayloadVersion'], 1);
  assert.match(String(p['PayloadIdentifier']), /^com\.example\.email\.[0-9a-f]{16}$/);
  assert.equal(p.PayloadContent.length, 1);
  const m = p.PayloadContent[0]!;
  assert.deepEqual(
    Object.fromEntries(Object.entries(m).filter(([k]) => !/^Payload(UUID|Identifier|Description|DisplayName)$/.test(k))),
    {
      EmailAccountDescription: 'mjl@example.com', EmailAccountType: 'EmailTypeIMAP', EmailAddress: 'mjl@example.com',
      IncomingMailServerAuthentication: 'EmailAuthCRAMMD5', IncomingMailServerHostName: 'mail.example.com', IncomingMailServerPortNumber: 993, IncomingMailServerUseSSL: true, IncomingMailServerUsername: 'mjl@example.com',
      OutgoingMailServerAuthentication: 'EmailAuthCRAMMD5', OutgoingMailServerHostName: 'mail.example.com', OutgoingMailServerPortNumber: 465, OutgoingMailServerUseSSL: true, OutgoingMailServerUsername: 'mjl@example.com',
      OutgoingPasswordSameAsIncomingPassword: true, PayloadType: 'com.apple.mail.managed', PayloadVersion: 1,
    },
  );
  assert.equal(m['PayloadIdentifier'], `${String(p['PayloadIdentifier'])}.mail`);
  const uuid = /^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;
  assert.match(String(p['PayloadUUID']), uuid);
  assert.match(String(m['PayloadUUID']), uuid);
  assert.notEqual(p['PayloadUUID'], m['PayloadUUID']);
  // Stable for an address, different for another.
  const again = py(readPlist, (await http('GET', 'autoconfig.example.com', '/mail/apple.mobileconfig?email=mjl%40example.com')).body) as Record<string, unknown>;
  assert.equal(again['PayloadUUID'], p['PayloadUUID']);
  const other = py(readPlist, (await http('GET', 'autoconfig.example.com', '/mail/apple.mobileconfig?email=info%40example.com')).body) as Record<string, unknown>;
  assert.notEqual(other['PayloadUUID'], p['PayloadUUID']);
  assert.notEqual(other['PayloadIdentifier'], p['PayloadIdentifier']);
});

test('the Apple profile of an address with markup characters parses back to the same address', needsPython, async () => {
  const odd = "a&b'c=?x?=%@example.com"; // all atext (RFC 5322 §3.2.3)
  const r = await http('GET', 'mail.example.com', `/mail/apple.mobileconfig?email=${encodeURIComponent(odd)}`);
  assert.equal(r.status, 200, r.body);
  const m = (py(readPlist, r.body) as { PayloadContent: Array<Record<string, unknown>> }).PayloadContent[0]!;
  assert.deepEqual([m['EmailAddress'], m['IncomingMailServerUsername'], m['OutgoingMailServerUsername']], [odd, odd, odd]);
  assert.equal((await http('GET', 'mail.example.com', '/mail/apple.mobileconfig')).status, 404); // a profile is for one address
});

test("uuidV5 is the RFC 9562 version 5 UUID Python's uuid.uuid5 makes", needsPython, () => {
  const r = spawnSync('python3', ['-c', 'import uuid; print(str(uuid.uuid5(uuid.NAMESPACE_URL, "mailto:mjl@example.com#mail")).upper())'], { encoding: 'utf8' });
  assert.equal(uuidV5('mailto:mjl@example.com#mail'), r.stdout.trim());
});

test('a profile needs both IMAP and submission; without a TLS listener nothing is suggested', () => {
  const plain = parsed(parseStatic('mailcove.conf', 'hostname: mail.example.com\nlisteners:\n  local:\n    ips: [127.0.0.1]\n    imap: {}\n    submission: {}\n'));
  const r = appleProfile({ static: () => plain, domains: () => domains }, 'mail.example.com', 'mjl@example.com');
  assert.equal(r.status, 404);
});

// ---- MTA-STS (RFC 8461) ----

const policyText = 'version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.backup.example.com\r\nmax_age: 604800\r\n';

test('mta-sts.<domain>/.well-known/mta-sts.txt is the policy, as our sending side reads it', async () => {
  const r = await http('GET', 'mta-sts.example.com', '/.well-known/mta-sts.txt');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8'); // RFC 8461 §3.3
  assert.equal(r.body, policyText);
  const p = parsePolicy(r.body);
  assert.deepEqual(p, { mode: 'enforce', mx: ['mail.example.com', '*.backup.example.com'], maxAge: 604800 });
  if ('error' in p) return;
  assert.equal(policyMatchesHost(p, 'mail.example.com'), true);
  assert.equal(policyMatchesHost(p, 'mx2.backup.example.com'), true);
  assert.equal(policyMatchesHost(p, 'mail.other.example'), false);
});

test('the MTA-STS policy is 404 for domains without one, other hosts and other paths', async () => {
  for (const [host, path] of [['mta-sts.other.example', '/.well-known/mta-sts.txt'], ['mta-sts.unknown.example', '/.well-known/mta-sts.txt'], ['example.com', '/.well-known/mta-sts.txt'], ['mail.example.com', '/.well-known/mta-sts.txt'], ['mta-sts.example.com', '/.well-known/other']]) {
    assert.equal((await http('GET', host!, path!)).status, 404, `${host}${path}`);
  }
  assert.equal((await http('POST', 'mta-sts.example.com', '/.well-known/mta-sts.txt', { body: '' })).status, 405);
});

test('mode none and testing policies parse too', () => {
  for (const mode of ['none', 'testing'] as const) {
    const text = mtaStsPolicy(st, { policyID: 'x', mode, mx: [], maxAgeSeconds: 86400 });
    assert.deepEqual(parsePolicy(text), { mode, mx: ['mail.example.com'], maxAge: 86400 });
  }
});
