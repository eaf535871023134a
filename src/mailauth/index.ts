// Message authentication for incoming mail and DKIM signing for outgoing: iprev (RFC
// 8601 §3), SPF (RFC 7208), DKIM (RFC 6376, RFC 8463), DMARC (RFC 7489), ARC (RFC 8617)
// through the `mailauth` library fed by our resolver (src/dns), with our policy on top
// (l= and unsigned Subject count as dkim=policy) and an Authentication-Results header
// that notes DNSSEC. Messages are streamed from their spool file, never read whole.
import { createReadStream } from 'node:fs';
import { createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { authenticate } from 'mailauth';
import { domainToASCII } from 'node:url';
import { signMessage } from './sign.ts';
import type { Resolver } from '../dns/index.ts';
import { resolverAdapter } from './resolver.ts';
import { iprev, type IprevResult } from './iprev.ts';
import { dmarcAligned } from './alignment.ts';
import { foldField } from './fold.ts';

export interface InboundCheckInput {
  remoteIP: string;
  ehlo: string;
  mailFrom: string; // '' for the null path
  messagePath: string; // the message file; or '' with `message`
  message?: Buffer; // the message in memory (small messages): read instead of messagePath
  hostname: string; // authserv-id (RFC 8601 §2.5)
  resolver: Resolver;
}

type DkimResultValue = 'pass' | 'fail' | 'neutral' | 'policy' | 'none' | 'temperror' | 'permerror';
type SpfResultValue = 'pass' | 'fail' | 'softfail' | 'neutral' | 'none' | 'temperror' | 'permerror';

export interface InboundCheckResult {
  iprev: IprevResult;
  spf: { result: SpfResultValue; domain: string; authentic: boolean };
  dkim: Array<{ result: DkimResultValue; domain: string; selector: string; algorithm: string; authentic: boolean; reason?: string }>;
  dmarc: { result: 'pass' | 'fail' | 'none' | 'temperror' | 'permerror'; domain: string; policy: 'none' | 'quarantine' | 'reject' | ''; reject: boolean };
  arc: { result: 'pass' | 'fail' | 'none' };
  /** Header fields to prepend (CRLF-terminated): Authentication-Results (RFC 8601) and Received-SPF (RFC 7208 §9.1). */
  headers: string;
  /** Domains verified by SPF or a passing DKIM signature (for delivery rulesets). */
  verifiedDomains: string[];
}

interface MailauthDkimRow {
  signingDomain?: string;
  selector?: string;
  algo?: string;
  canonBodyLengthLimited?: boolean;
  signingHeaders?: { keys?: string };
  status: { result: string; comment?: string | false };
}
interface MailauthResult {
  dkim?: { results?: MailauthDkimRow[]; headerFrom?: string[] };
  spf?: { domain?: string; status?: { result?: string }; header?: string } | false;
  dmarc?: { status?: { result?: string; header?: { from?: string } }; domain?: string; policy?: string; p?: string; sp?: string; pct?: number } | false;
  arc?: { status?: { result?: string } } | false;
}

const spfValues = new Set(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror']);
const dkimValues = new Set(['pass', 'fail', 'neutral', 'policy', 'none', 'temperror', 'permerror']);

export async function checkInbound(input: InboundCheckInput): Promise<InboundCheckResult> {
  const adapter = resolverAdapter(input.resolver);
  const ipResult = await iprev(input.resolver, input.remoteIP);
  const res = (await authenticate(input.message ?? createReadStream(input.messagePath), {
    ip: input.remoteIP,
    helo: input.ehlo,
    sender: input.mailFrom,
    mta: input.hostname,
    resolver: adapter.resolve as (name: string, type: string) => Promise<string[]>, // MX answers are objects, as node:dns gives them
    disableBimi: true,
    rejectRsaSha1: true, // RFC 8301 §3.1: rsa-sha1 signatures do not pass
  })) as unknown as MailauthResult;

  const spfRaw = res.spf || undefined;
  const spfDomain = spfRaw?.domain ?? (input.mailFrom.split('@').pop() || input.ehlo);
  const spfResult = (spfValues.has(spfRaw?.status?.result ?? '') ? spfRaw!.status!.result : 'none') as SpfResultValue;
  const spf = { result: spfResult, domain: spfDomain, authentic: adapter.authentic(spfDomain, 'TXT') };

  const dkim = (res.dkim?.results ?? []).map((r) => {
    const domain = r.signingDomain ?? '';
    const selector = r.selector ?? '';
    let result = (dkimValues.has(r.status.result) ? r.status.result : 'permerror') as DkimResultValue;
    let reason = typeof r.status.comment === 'string' ? r.status.comment : undefined;
    if (result === 'neutral' && reason === 'body hash did not verify') result = 'fail'; // RFC 6376 §6.1.3 step 3: PERMFAIL, reported as fail (RFC 8601 §2.7.1)
    if (result === 'pass' && r.canonBodyLengthLimited) {
      result = 'policy'; // our policy: l= lets anyone append to the body
      reason = 'l= body length limit not accepted';
    } else if (result === 'pass' && !(r.signingHeaders?.keys ?? '').toLowerCase().split(':').map((k) => k.trim()).includes('subject')) {
      result = 'policy'; // our policy: an unsigned Subject can be replaced
      reason = 'Subject not signed';
    }
    return { result, domain, selector, algorithm: r.algo ?? '', authentic: adapter.authentic(`${selector}._domainkey.${domain}`, 'TXT'), ...(reason ? { reason } : {}) };
  });
  if (dkim.length === 0) dkim.push({ result: 'none', domain: '', selector: '', algorithm: '', authentic: false });

  const fromDomain = res.dkim?.headerFrom?.[0]?.split('@').pop()?.toLowerCase() ?? '';
  const d = res.dmarc || undefined;
  let dmarcResult = (d?.status?.result ?? 'none') as InboundCheckResult['dmarc']['result'];
  if (!['pass', 'fail', 'none', 'temperror', 'permerror'].includes(dmarcResult)) dmarcResult = 'none';
  if (dmarcResult === 'pass') {
    // Re-check alignment without the DKIM signatures our policy did not accept (RFC 7489 §3.1).
    const passing = [...(spf.result === 'pass' ? [spf.domain] : [])];
    const dkimPassing = dkim.filter((x) => x.result === 'pass').map((x) => x.domain);
    if (!dmarcAligned(fromDomain, passing, dkimPassing)) dmarcResult = 'fail';
  }
  const policy = (['none', 'quarantine', 'reject'].includes(d?.policy ?? '') ? d!.policy : '') as InboundCheckResult['dmarc']['policy'];
  const pct = d?.pct ?? 100;
  const dmarc = { result: dmarcResult, domain: d?.domain ?? fromDomain, policy, reject: dmarcResult === 'fail' && policy === 'reject' && Math.random() * 100 < pct }; // RFC 7489 §6.6.4 pct sampling
  const arcRaw = res.arc || undefined;
  const arcValue = arcRaw?.status?.result;
  const arc = { result: (arcValue === 'pass' || arcValue === 'fail' ? arcValue : 'none') as 'pass' | 'fail' | 'none' };

  const verifiedDomains = [...new Set([...(spf.result === 'pass' ? [spf.domain] : []), ...dkim.filter((x) => x.result === 'pass').map((x) => x.domain)].map((x) => x.toLowerCase()))];
  const headers = foldField(authenticationResults(input, ipResult, spf, dkim, dmarc, arc)) + foldField(spfRaw?.header || receivedSpf(input, spf));
  return { iprev: ipResult, spf, dkim, dmarc, arc, headers, verifiedDomains };
}

/** RFC 8601 §2.2 header; "(dnssec)" comments mark results that rest on DNSSEC-validated answers. */
function authenticationResults(input: InboundCheckInput, ip: IprevResult, spf: InboundCheckResult['spf'], dkim: InboundCheckResult['dkim'], dmarc: InboundCheckResult['dmarc'], arc: InboundCheckResult['arc']): string {
  const sec = (authentic: boolean) => (authentic ? ' (dnssec)' : '');
  const parts = [
    `iprev=${ip.result}${sec(ip.authentic)} policy.iprev=${input.remoteIP}${ip.hostname ? ` (${ip.hostname})` : ''}`,
    ...dkim.map((x) => (x.domain === '' ? 'dkim=none' : `dkim=${x.result}${sec(x.authentic)}${x.reason ? ` (${x.reason.replace(/[()\r\n\\]/g, ' ')})` : ''} header.d=${x.domain} header.s=${x.selector} header.a=${x.algorithm}`)),
    `spf=${spf.result}${sec(spf.authentic)} smtp.${input.mailFrom ? 'mailfrom' : 'helo'}=${input.mailFrom ? `${input.mailFrom.includes('"') ? `"${input.mailFrom.replace(/"/g, '')}"` : input.mailFrom}` : spf.domain}`,
    `dmarc=${dmarc.result}${dmarc.policy ? ` (p=${dmarc.policy})` : ''} header.from=${dmarc.domain || 'unknown'}`,
    `arc=${arc.result}`,
  ];
  return `Authentication-Results: ${input.hostname};\r\n\t${parts.join(';\r\n\t')}\r\n`;
}

/** RFC 7208 §9.1 Received-SPF when mailauth gave none. */
function receivedSpf(input: InboundCheckInput, spf: InboundCheckResult['spf']): string {
  return `Received-SPF: ${spf.result} client-ip=${input.remoteIP}; helo=${input.ehlo.replace(/[;\s]/g, '')}; envelope-from="${input.mailFrom.replace(/"/g, '')}"\r\n`;
}

export interface DkimSigner {
  domain: string;
  selector: string;
  privateKeyPEM: string;
  canonicalization: string;
  headers?: string[];
  dontSealHeaders: boolean;
  expirationSeconds?: number;
}

/** Header fields signed by default (RFC 6376 §5.4.1): the ones a reader sees and replies use. */
const defaultSignedHeaders = ['From', 'To', 'Cc', 'Reply-To', 'Subject', 'Date', 'Message-ID', 'In-Reply-To', 'References', 'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding', 'List-Id', 'List-Unsubscribe', 'List-Unsubscribe-Post'];

/** DKIM-Signature fields for the message in the file, one per signer (RSA-SHA256 or Ed25519-SHA256, RFC 8463). */
export async function dkimSign(message: string | Buffer, signers: DkimSigner[]): Promise<string> { // a file path, or the bytes
  try {
    return await signMessage(message, signers.map((x) => ({
      domain: domainToASCII(x.domain) || x.domain, selector: x.selector, privateKeyPEM: x.privateKeyPEM, canonicalization: x.canonicalization,
      headers: x.headers ?? defaultSignedHeaders, oversign: !x.dontSealHeaders, // RFC 6376 §8.15
      ...(x.expirationSeconds ? { expirationSeconds: x.expirationSeconds } : {}),
    })));
  } catch (e) {
    throw new DkimSignError((e as Error).message);
  }
}

/** Signing failed: a bad key, or a message without From (RFC 6376 §5.4). */
export class DkimSignError extends Error {
  constructor(detail: string) {
    super(`dkim signing failed: ${detail}`);
    this.name = 'DkimSignError';
  }
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** A new DKIM key: PKCS#8 PEM and the TXT record value for <selector>._domainkey.<domain> (RFC 6376 §3.6.1, RFC 8463 §4.2). */
export async function generateDkimKey(kind: 'rsa' | 'ed25519', bits = 2048): Promise<{ privateKeyPEM: string; dnsRecord: string }> {
  if (kind === 'ed25519') {
    const { privateKey, publicKey } = await generateKeyPairAsync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'der' } });
    return { privateKeyPEM: privateKey, dnsRecord: `v=DKIM1; k=ed25519; p=${publicKey.subarray(-32).toString('base64')}` }; // RFC 8463 §4.2: the raw 32-byte key
  }
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', { modulusLength: bits, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'der' } });
  return { privateKeyPEM: privateKey, dnsRecord: `v=DKIM1; k=rsa; h=sha256; p=${publicKey.toString('base64')}` };
}

/**
 * The TXT record value for <selector>._domainkey.<domain> of a DKIM private (or public) key,
 * in the form generateDkimKey prints (RFC 6376 §3.6.1; ed25519: RFC 8463 §4.2). Throws on
 * a key that is neither RSA nor ed25519.
 */
export function dkimRecordForKey(key: string | KeyObject): string {
  const pub = createPublicKey(key);
  const spki = pub.export({ type: 'spki', format: 'der' });
  if (pub.asymmetricKeyType === 'ed25519') return `v=DKIM1; k=ed25519; p=${spki.subarray(-32).toString('base64')}`; // RFC 8463 §4.2: the raw 32-byte key
  if (pub.asymmetricKeyType === 'rsa') return `v=DKIM1; k=rsa; h=sha256; p=${spki.toString('base64')}`;
  throw new Error(`DKIM keys are RSA or ed25519, not ${pub.asymmetricKeyType ?? 'unknown'}`);
}
