// The live DNS check: each expected record looked up and compared by what it means (one
// SPF record with our mechanisms, the same DKIM key, the same DMARC tags in any order...),
// reported as correct, missing, wrong (with what was found and expected) or error.
import { isDnsError, type LookupResult, type Resolver, type TxtRecord } from '../dns/index.ts';
import { parse, present, txtText } from './presentation.ts';
import type { CheckStatus, DnsRecordSpec, RecordCheck, RecordMatch } from './types.ts';

type Outcome = { status: Exclude<CheckStatus, 'error'>; found: string[]; message: string };

/** A lookup where a name that does not exist is just "no records" (RFC 8020); other failures throw. */
async function records<T>(lookup: Promise<LookupResult<T>>): Promise<T[]> {
  try {
    return (await lookup).records;
  } catch (e) {
    if (isDnsError(e, 'nxdomain')) return [];
    throw e;
  }
}

const missing = (spec: DnsRecordSpec, found: string[] = [], what = 'no record'): Outcome => ({ status: 'missing', found, message: `${what}; expected ${spec.type} ${spec.value}` });
const wrong = (spec: DnsRecordSpec, found: string[], why: string): Outcome => ({ status: 'wrong', found, message: `${why}; expected ${spec.type} ${spec.value}` });
const correct = (found: string[], remark = ''): Outcome => ({ status: 'correct', found, message: remark });

/** Tags of a tag=value record (RFC 6376 §3.2, RFC 7489 §6.4, RFC 8460 §3, RFC 8461 §3.1): names lowercased, whitespace around values dropped. */
function tags(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    m.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return m;
}

/** Differences between expected and found tags, ignoring order; found tags listed in `defaults` at their default value count as absent. */
function tagDifferences(expected: Map<string, string>, found: Map<string, string>, defaults: Record<string, string> = {}, caseInsensitive = true): string[] {
  const norm = (v: string) => (caseInsensitive ? v.replace(/\s+/g, '').toLowerCase() : v);
  const diffs: string[] = [];
  for (const [k, v] of expected) {
    const f = found.get(k);
    if (f === undefined) diffs.push(`${k}= missing`);
    else if (norm(f) !== norm(v)) diffs.push(`${k}=${f} instead of ${k}=${v}`);
  }
  for (const [k, f] of found) {
    if (!expected.has(k) && !(defaults[k] !== undefined && norm(defaults[k]) === norm(f))) diffs.push(`${k}=${f} not expected`);
  }
  return diffs;
}

/** A TXT check over the records of one kind at the name: exactly one must exist, and compare() says what differs. */
function txtCheck(isKind: (text: string) => boolean, kind: string, rule: string, compare: (expected: string, found: string) => Outcome | string[]) {
  return async (r: Resolver, spec: DnsRecordSpec): Promise<Outcome> => {
    const all = await records(r.lookupTXT(spec.name));
    const mine = all.filter((t: TxtRecord) => isKind(t.text));
    const found = mine.map(present.txt);
    if (mine.length === 0) return missing(spec, [], all.length ? `no ${kind} record among ${all.length} TXT records` : 'no record');
    if (mine.length > 1) return wrong(spec, found, `${mine.length} ${kind} records where there must be one (${rule})`);
    const c = compare(txtText(spec.value), mine[0]!.text);
    if (!Array.isArray(c)) return c;
    return c.length ? wrong(spec, found, c.join(', ')) : correct(found);
  };
}

/** SPF directives (RFC 7208 §4.6.1) without the default '+' qualifier, lowercased. */
function spfTerms(text: string): string[] {
  return text.trim().split(/\s+/).slice(1).map((t) => t.toLowerCase().replace(/^\+/, ''));
}

function compareSpf(spec: DnsRecordSpec) {
  return (expected: string, found: string): Outcome => {
    const want = spfTerms(expected);
    const have = spfTerms(found);
    const shown = [present.txt({ strings: [Buffer.from(found)], text: found })];
    const isAll = (t: string) => /^[~?-]?all$/.test(t);
    if (have.some((t) => t.startsWith('redirect='))) return wrong(spec, shown, 'uses redirect=, so the mechanisms here cannot be compared');
    const lacking = want.filter((t) => !isAll(t) && !have.includes(t));
    const wantAll = want.find(isAll) ?? 'all';
    const haveAll = have.find(isAll);
    const strict = (t: string | undefined) => (t === '-all' ? 3 : t === '~all' ? 2 : t === '?all' ? 1 : 0); // RFC 7208 §4.6.2: fail > softfail > neutral > pass
    const problems = [...lacking.map((t) => `${t} missing`), ...(strict(haveAll) < strict(wantAll) ? [`${haveAll ?? 'no all mechanism'} is weaker than ${wantAll}`] : [])];
    if (problems.length) return wrong(spec, shown, problems.join(', '));
    const extra = have.filter((t) => !isAll(t) && !want.includes(t));
    return correct(shown, extra.length ? `also allows: ${extra.join(' ')}` : ''); // other senders of the domain are the operator's choice
  };
}

function compareDkim(spec: DnsRecordSpec) {
  return (expected: string, found: string): string[] | Outcome => {
    const e = tags(expected);
    const f = tags(found);
    const key = (m: Map<string, string>) => (m.get('p') ?? '').replace(/\s+/g, ''); // RFC 6376 §3.6.1: p= is base64 with FWS allowed
    if (f.get('p') === '') return wrong(spec, [present.txt({ strings: [Buffer.from(found)], text: found })], 'the key is revoked (empty p=, RFC 6376 §3.6.1)');
    const diffs: string[] = [];
    if ((f.get('k') ?? 'rsa').toLowerCase() !== (e.get('k') ?? 'rsa').toLowerCase()) diffs.push(`k=${f.get('k') ?? 'rsa'} instead of k=${e.get('k') ?? 'rsa'}`); // RFC 6376 §3.6.1: k= defaults to rsa
    if (key(f) !== key(e)) diffs.push('a different public key (p=)');
    return diffs;
  };
}

// RFC 7489 §6.3: tags whose stated default means the same as leaving them out.
const dmarcDefaults = { adkim: 'r', aspf: 'r', pct: '100', fo: '0', rf: 'afrf', ri: '86400' };

type Matcher = (r: Resolver, spec: DnsRecordSpec) => Promise<Outcome>;

/** Each spec's match kind and how it is checked. */
const matchers: Record<RecordMatch, Matcher> = {
  mx: async (r, spec) => {
    const want = parse.mx(spec.value).exchange;
    const mx = await records(r.lookupMX(spec.name));
    const found = mx.map(present.mx);
    if (mx.length === 0) return missing(spec);
    if (mx.some((m) => m.exchange === '')) return wrong(spec, found, 'a null MX says the domain accepts no mail (RFC 7505)');
    return mx.some((m) => m.exchange === want) ? correct(found, mx.length > 1 ? 'other MX hosts are listed too' : '') : wrong(spec, found, `${want} is not among the MX hosts`);
  },
  spf: (r, spec) => txtCheck((t) => /^v=spf1(\s|$)/i.test(t), 'v=spf1', 'RFC 7208 §4.5', compareSpf(spec))(r, spec),
  dkim: (r, spec) => txtCheck((t) => /(^|;)\s*p\s*=/.test(t) || /^v=DKIM1/.test(t), 'DKIM key', 'RFC 6376 §3.6.2.2', compareDkim(spec))(r, spec),
  dmarc: txtCheck((t) => /^v\s*=\s*DMARC1\s*(;|$)/.test(t), 'v=DMARC1', 'RFC 7489 §6.6.3', (e, f) => tagDifferences(tags(e), tags(f), dmarcDefaults)),
  tlsrpt: txtCheck((t) => /^v\s*=\s*TLSRPTv1\s*(;|$)/.test(t), 'v=TLSRPTv1', 'RFC 8460 §3', (e, f) => tagDifferences(tags(e), tags(f))),
  mtasts: txtCheck((t) => /^v\s*=\s*STSv1\s*(;|$)/.test(t), 'v=STSv1', 'RFC 8461 §3.1', (e, f) => tagDifferences(tags(e), tags(f), {}, false)), // id= is compared exactly: senders compare it so
  cname: async (r, spec) => {
    const want = parse.name(spec.value);
    const cnames = await records(r.lookupCNAME(spec.name));
    if (cnames.length) return cnames[0] === want ? correct(cnames.map(present.name)) : wrong(spec, cnames.map(present.name), `CNAME to ${present.name(cnames[0]!)}`);
    // Address records equal to the target's serve the same purpose (e.g. at a DNS host without CNAME flattening).
    const [mine, theirs] = await Promise.all([records(r.lookupIP(spec.name)), records(r.lookupIP(want))]);
    if (mine.length === 0) return missing(spec);
    const same = mine.length === theirs.length && mine.every((a) => theirs.includes(a));
    return same ? correct(mine, `A/AAAA records instead of a CNAME, the same as ${want}'s`) : wrong(spec, mine, `A/AAAA records that differ from ${want}'s (${theirs.join(', ') || 'none'})`);
  },
  srv: async (r, spec) => {
    const want = parse.srv(spec.value);
    const srv = await records(r.lookupSRV(spec.name));
    const found = srv.map(present.srv);
    if (srv.length === 0) return missing(spec);
    if (want.target === '') return srv.length === 1 && srv[0]!.target === '' ? correct(found) : wrong(spec, found, 'the service is not offered here, so the target should be "."');
    return srv.some((x) => x.target === want.target && x.port === want.port) ? correct(found) : wrong(spec, found, `no record with target ${want.target}. and port ${want.port}`);
  },
  caa: async (r, spec) => {
    const want = parse.caa(spec.value);
    const caa = await records(r.lookupCAA(spec.name));
    const found = caa.map(present.caa);
    if (caa.length === 0) return missing(spec);
    const issuer = (v: string) => (v.split(';')[0] ?? '').trim().toLowerCase(); // RFC 8659 §4.2: issuer-domain-name [; parameters]
    const issue = caa.filter((x) => x.tag.toLowerCase() === want.tag);
    if (issue.some((x) => issuer(x.value) === issuer(want.value))) return correct(found);
    return wrong(spec, found, issue.length ? `${issuer(want.value)} is not allowed to issue, so its certificates cannot be had (RFC 8659 §4.2)` : `no ${want.tag} record for ${issuer(want.value)}`);
  },
  tlsa: async (r, spec) => {
    const want = parse.tlsa(spec.value);
    const tlsa = await records(r.lookupTLSA(spec.name));
    const found = tlsa.map(present.tlsa);
    if (tlsa.length === 0) return missing(spec);
    const same = tlsa.some((x) => x.usage === want.usage && x.selector === want.selector && x.matchingType === want.matchingType && x.data.equals(want.data));
    return same ? correct(found) : wrong(spec, found, 'no record for the certificate key: DANE senders would not deliver (RFC 7672 §2.2)');
  },
  address: async (r, spec) => {
    const found = await records(spec.type === 'AAAA' ? r.lookupAAAA(spec.name) : r.lookupA(spec.name));
    if (found.length === 0) return missing(spec);
    return found.includes(spec.value) ? correct(found) : wrong(spec, found, `${spec.value} is not among the addresses`);
  },
};

/** Looks up every spec (in parallel) and says for each whether the DNS has it right. */
export async function checkRecords(resolver: Resolver, specs: readonly DnsRecordSpec[]): Promise<RecordCheck[]> {
  return Promise.all(
    specs.map(async (spec): Promise<RecordCheck> => {
      try {
        return { spec, ...(await matchers[spec.match](resolver, spec)) };
      } catch (e) {
        if (!isDnsError(e)) throw e; // a bug, not the DNS
        return { spec, status: 'error', found: [], message: `lookup failed (${e.kind}): ${e.message}` };
      }
    }),
  );
}
