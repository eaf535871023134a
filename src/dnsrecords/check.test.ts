// checkRecords against a MemoryResolver: every record correct when published as printed,
// missing when absent, and wrong (saying what and what was expected) for each kind of
// mistake an operator makes; lookup failures are errors, not "missing".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import type { MemoryResolver } from '../dns/index.ts';
import { checkRecords, hostKeySpkis, requiredRecords, type DnsRecordSpec, type RecordCheck } from './index.ts';
import { publishedResolver, recordsFixture, type RecordsFixture } from './testfixture.ts';

let f: RecordsFixture;
let specs: DnsRecordSpec[];

before(async () => {
  f = await recordsFixture();
  const configDir = dirname(f.staticPath);
  const tlsaSpki = await hostKeySpkis({ static: f.config.static, configDir, dataDir: f.config.paths.dataDir });
  specs = await requiredRecords({ domain: 'example.mcove', config: f.config.domains, static: f.config.static, configDir, tlsaSpki });
});
after(() => f.cleanup());

const D = 'example.mcove';
const H = 'mail.example.mcove';

/** All records published except the spec at name/type (first match, or the one whose value matches), then `replace` applied. */
async function checkOne(name: string, type: DnsRecordSpec['type'], replace: (r: MemoryResolver) => void, valueMatch?: RegExp): Promise<RecordCheck> {
  const spec = specs.find((s) => s.name === name && s.type === type && (!valueMatch || valueMatch.test(s.value)));
  assert.ok(spec, `a ${type} spec at ${name}`);
  const r = publishedResolver(specs.filter((s) => s !== spec));
  replace(r);
  const [result] = await checkRecords(r, [spec]);
  return result!;
}

test('every record published as printed checks correct', async () => {
  const results = await checkRecords(publishedResolver(specs), specs);
  assert.deepEqual(results.filter((c) => c.status !== 'correct').map((c) => `${c.spec.name} ${c.spec.type}: ${c.message}`), []);
  assert.equal(results.length, specs.length);
});

test('nothing published: every record is missing, with the expected value in the message', async () => {
  const results = await checkRecords(publishedResolver([{ name: 'other.mcove', type: 'A', value: '192.0.2.1', purpose: '', match: 'address' }]), specs);
  assert.deepEqual(new Set(results.map((c) => c.status)), new Set(['missing']));
  const mx = results.find((c) => c.spec.type === 'MX')!;
  assert.match(mx.message, /expected MX 10 mail\.example\.mcove\./);
});

const wrongCases: Array<{ name: string; at: string; type: DnsRecordSpec['type']; value?: RegExp; publish: (r: MemoryResolver) => void; status: RecordCheck['status']; message: RegExp }> = [
  // MX (RFC 5321 §5.1, RFC 7505)
  { name: 'MX to another host is wrong', at: D, type: 'MX', publish: (r) => r.add(D, 'MX', [{ preference: 10, exchange: 'mx.elsewhere.example' }]), status: 'wrong', message: /mail\.example\.mcove is not among the MX hosts/ },
  { name: 'a null MX is wrong', at: D, type: 'MX', publish: (r) => r.add(D, 'MX', [{ preference: 0, exchange: '' }]), status: 'wrong', message: /null MX/ },
  { name: 'our MX among others is correct', at: D, type: 'MX', publish: (r) => r.add(D, 'MX', [{ preference: 20, exchange: 'backup.example' }, { preference: 10, exchange: H }]), status: 'correct', message: /other MX hosts/ },
  // SPF (RFC 7208 §4.5)
  { name: 'SPF without the mx mechanism is wrong', at: D, type: 'TXT', value: /spf1/, publish: (r) => r.addTXT(D, 'v=spf1 -all'), status: 'wrong', message: /mx missing; expected TXT "v=spf1 mx ~all"/ },
  { name: 'SPF ending in ?all is weaker than ~all: wrong', at: D, type: 'TXT', value: /spf1/, publish: (r) => r.addTXT(D, 'v=spf1 mx ?all'), status: 'wrong', message: /\?all is weaker than ~all/ },
  { name: 'two SPF records are wrong', at: D, type: 'TXT', value: /spf1/, publish: (r) => r.addTXT(D, 'v=spf1 mx ~all').addTXT(D, 'v=spf1 a -all'), status: 'wrong', message: /2 v=spf1 records where there must be one/ },
  { name: 'SPF with another sender and -all is correct, saying so', at: D, type: 'TXT', value: /spf1/, publish: (r) => r.addTXT(D, 'v=spf1 +MX include:_spf.example.net -all'), status: 'correct', message: /also allows: include:_spf\.example\.net/ },
  { name: 'only unrelated TXT records: SPF missing', at: D, type: 'TXT', value: /spf1/, publish: (r) => r.addTXT(D, 'site-verification=abc'), status: 'missing', message: /no v=spf1 record among 1 TXT records/ },
  // DKIM (RFC 6376 §3.6.1)
  { name: 'DKIM with another key is wrong', at: `2026e._domainkey.${D}`, type: 'TXT', publish: (r) => r.addTXT(`2026e._domainkey.${D}`, 'v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo='), status: 'wrong', message: /different public key/ },
  { name: 'a revoked DKIM key is wrong', at: `2026e._domainkey.${D}`, type: 'TXT', publish: (r) => r.addTXT(`2026e._domainkey.${D}`, 'v=DKIM1; k=ed25519; p='), status: 'wrong', message: /revoked/ },
  { name: 'DKIM with the key split by spaces and tags reordered is correct', at: `2026a._domainkey.${D}`, type: 'TXT', publish: (r) => {
    const p = /p=([^"]+)" "([^"]+)"/.exec(specs.find((s) => s.name === `2026a._domainkey.${D}`)!.value)!;
    r.addTXT(`2026a._domainkey.${D}`, `p=${p[1]} ${p[2]}; v=DKIM1; h=sha256`);
  }, status: 'correct', message: /^$/ },
  { name: 'DKIM with k=rsa where ed25519 is expected is wrong', at: `2026e._domainkey.${D}`, type: 'TXT', publish: (r) => r.addTXT(`2026e._domainkey.${D}`, 'v=DKIM1; p=MIIB'), status: 'wrong', message: /k=rsa instead of k=ed25519/ },
  // DMARC (RFC 7489 §6.3)
  { name: 'DMARC p=none is wrong', at: `_dmarc.${D}`, type: 'TXT', publish: (r) => r.addTXT(`_dmarc.${D}`, 'v=DMARC1; p=none; rua=mailto:dmarc-reports@example.mcove'), status: 'wrong', message: /p=none instead of p=reject/ },
  { name: 'DMARC tags in another order, with defaults spelled out, are correct', at: `_dmarc.${D}`, type: 'TXT', publish: (r) => r.addTXT(`_dmarc.${D}`, 'v=DMARC1;rua=mailto:DMARC-reports@example.mcove ;  p=reject; adkim=r; pct=100;'), status: 'correct', message: /^$/ },
  { name: 'DMARC without rua is wrong', at: `_dmarc.${D}`, type: 'TXT', publish: (r) => r.addTXT(`_dmarc.${D}`, 'v=DMARC1; p=reject; sp=none'), status: 'wrong', message: /rua= missing, sp=none not expected/ },
  // TLSRPT (RFC 8460 §3), MTA-STS (RFC 8461 §3.1)
  { name: 'TLSRPT to another address is wrong', at: `_smtp._tls.${D}`, type: 'TXT', publish: (r) => r.addTXT(`_smtp._tls.${D}`, 'v=TLSRPTv1; rua=mailto:reports@elsewhere.example'), status: 'wrong', message: /rua=mailto:reports@elsewhere\.example instead of rua=mailto:tls-reports@example\.mcove/ },
  { name: 'MTA-STS with an old id is wrong', at: `_mta-sts.${D}`, type: 'TXT', publish: (r) => r.addTXT(`_mta-sts.${D}`, 'v=STSv1; id=20250101T000000'), status: 'wrong', message: /id=20250101T000000 instead of id=20260101T000000/ },
  // CNAME
  { name: 'a CNAME to another host is wrong', at: `mta-sts.${D}`, type: 'CNAME', publish: (r) => r.add(`mta-sts.${D}`, 'CNAME', ['web.elsewhere.example']), status: 'wrong', message: /CNAME to web\.elsewhere\.example\./ },
  { name: "A/AAAA records equal to the host's instead of a CNAME are correct", at: `autoconfig.${D}`, type: 'CNAME', publish: (r) => r.add(`autoconfig.${D}`, 'A', ['192.0.2.10']).add(`autoconfig.${D}`, 'AAAA', ['2001:db8::10']), status: 'correct', message: /instead of a CNAME/ },
  { name: "A records other than the host's are wrong", at: `autoconfig.${D}`, type: 'CNAME', publish: (r) => r.add(`autoconfig.${D}`, 'A', ['192.0.2.99']), status: 'wrong', message: /differ from mail\.example\.mcove's/ },
  // SRV (RFC 6186, RFC 2782)
  { name: 'SRV with another port is wrong', at: `_submissions._tcp.${D}`, type: 'SRV', publish: (r) => r.add(`_submissions._tcp.${D}`, 'SRV', [{ priority: 0, weight: 1, port: 587, target: H }]), status: 'wrong', message: /no record with target mail\.example\.mcove\. and port 465/ },
  { name: 'SRV offering a service we do not serve is wrong', at: `_imap._tcp.${D}`, type: 'SRV', publish: (r) => r.add(`_imap._tcp.${D}`, 'SRV', [{ priority: 0, weight: 1, port: 143, target: H }]), status: 'wrong', message: /target should be "\."/ },
  // CAA (RFC 8659 §4.2)
  { name: 'CAA allowing only another CA is wrong', at: D, type: 'CAA', publish: (r) => r.add(D, 'CAA', [{ flags: 0, tag: 'issue', value: 'pki.goog' }]), status: 'wrong', message: /letsencrypt\.org is not allowed to issue/ },
  { name: 'CAA with an accounturi parameter is correct', at: D, type: 'CAA', publish: (r) => r.add(D, 'CAA', [{ flags: 0, tag: 'issue', value: 'letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/1' }]), status: 'correct', message: /^$/ },
  // TLSA (RFC 6698, RFC 7672)
  { name: 'TLSA for another key is wrong', at: `_25._tcp.${H}`, type: 'TLSA', publish: (r) => r.add(`_25._tcp.${H}`, 'TLSA', [{ usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(32, 1) }]), status: 'wrong', message: /DANE senders would not deliver/ },
  // A/AAAA
  { name: 'another address for the host is wrong', at: H, type: 'A', publish: (r) => r.add(H, 'A', ['192.0.2.11']), status: 'wrong', message: /192\.0\.2\.10 is not among the addresses/ },
  // lookup failures
  { name: 'SERVFAIL is an error, not missing', at: `_dmarc.${D}`, type: 'TXT', publish: (r) => r.fail(`_dmarc.${D}`, '*', 'servfail'), status: 'error', message: /servfail/ },
];

for (const c of wrongCases) {
  test(c.name, async () => {
    const result = await checkOne(c.at, c.type, c.publish, c.value);
    assert.equal(result.status, c.status, result.message);
    assert.match(result.message, c.message);
    if (c.status === 'wrong') assert.ok(result.found.length > 0, 'a wrong record shows what was found');
  });
}

test('each kind of record is missing when its name has no such record', async () => {
  const kinds = new Map(specs.map((s) => [s.match, s]));
  for (const [kind, spec] of kinds) {
    const result = await checkOne(spec.name, spec.type, () => {}, new RegExp(spec.value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.equal(result.status, 'missing', `${kind}: ${result.message}`);
  }
  assert.deepEqual([...kinds.keys()].sort(), ['address', 'caa', 'cname', 'dkim', 'dmarc', 'mtasts', 'mx', 'spf', 'srv', 'tlsa', 'tlsrpt']);
});
