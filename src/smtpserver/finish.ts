// After the message is in: loop check, then the MX pipeline (authentication checks ->
// Received + Authentication-Results -> delivery rules -> store) or the submission pipeline
// (sender checks -> limits -> Date/Message-ID -> DKIM -> store/queue). 250 only once durable.
import { randomBytes } from 'node:crypto';
import { newFromId } from '../queue/index.ts';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { normalizeDomain, type DomainsConfig, type Ruleset } from '../config/index.ts';
import { domainToASCII } from 'node:url';
import { describeTls } from '../tls/index.ts';
import { formatDate, headerValue, parseAddressList, parseHeader, unfold, type HeaderField } from '../mime/index.ts';
import { checkInbound, dkimSign, type DkimSigner } from '../mailauth/index.ts';
import { SmtpError } from '../smtp/index.ts';
import { isStoreError } from '../store/index.ts';
import { counter } from '../metrics/index.ts';
import { maySendAs, type LocalDelivery } from './recipients.ts';
import type { Session, Transaction } from './session.ts';
import type { Spool } from './spool.ts';

const delivered = counter('mailcove_smtp_messages_total', 'Messages accepted over SMTP, by service and outcome.', ['service', 'outcome']);
const maxHeader = 1024 * 1024; // as the MIME indexer's limit

export async function finishMessage(s: Session, tx: Transaction, spool: Spool): Promise<void> {
  const { header, complete } = await spool.header(maxHeader);
  if (!complete && header.length < spool.size) throw new SmtpError(552, '5.6.0', 'header larger than 1 MiB'); // RFC 3463 5.6.0 media error
  const fields = parseHeader(header);
  const received = fields.filter((f) => f.key === 'received').length;
  if (received > s.ctx.limits.maxReceived) throw new SmtpError(554, '5.4.6', `routing loop: ${received} Received header fields`); // RFC 5321 §6.3; RFC 3463 5.4.6
  for (const r of tx.recipients) {
    if (r.target.kind === 'local' && r.target.simulate?.stage === 'data') throw await r.target.simulate.error(s); // localserve
  }
  try {
    if (s.submission) await submit(s, tx, spool, fields, header, complete);
    else await deliverInbound(s, tx, spool, fields);
    delivered.inc({ service: s.listener.service, outcome: 'accepted' });
  } catch (e) {
    delivered.inc({ service: s.listener.service, outcome: 'refused' });
    throw e;
  }
}

/** Received (RFC 5321 §4.4) with the protocol keyword of RFC 3848 / RFC 6531 §4.3 and the TLS parameters as a comment (RFC 8314 §4.3). */
function receivedField(s: Session, tx: Transaction, id: string, remoteName?: string): string {
  const proto = `${tx.params.smtputf8 ? 'UTF8SMTP' : 'ESMTP'}${s.tls ? 'S' : ''}${s.account ? 'A' : ''}`;
  const withProto = s.esmtp ? proto : 'SMTP';
  const tls = s.tls ? ` (${describeTls(s.tls.socket)})` : '';
  const ip = s.remoteIP.includes(':') ? `IPv6:${s.remoteIP}` : s.remoteIP;
  const rcpt = tx.recipients.length === 1 ? `\r\n\tfor <${tx.recipients[0]!.path.address}>` : '';
  return `Received: from ${sanitize(s.ehlo ?? 'unknown')} (${remoteName ? `${sanitize(remoteName)} ` : ''}[${ip}])\r\n\tby ${s.listener.hostname} (Mailcove) with ${withProto} id ${id}${tls}${rcpt};\r\n\t${formatDate(new Date())}\r\n`;
}

/** Client-chosen text in a header we write: no line breaks, no comment-breaking bytes. */
function sanitize(v: string): string {
  return v.replace(/[^\x21-\x7e\u0080-\uffff]/gu, '?').replace(/[()\\]/g, '?');
}

async function deliverInbound(s: Session, tx: Transaction, spool: Spool, fields: HeaderField[]): Promise<void> {
  const id = s.messageId();
  const checks = await checkInbound({
    remoteIP: s.remoteIP, ehlo: s.ehlo ?? '', mailFrom: tx.mailFrom?.address ?? '', ...(spool.data ? { messagePath: '', message: spool.data } : { messagePath: await spool.file() }), hostname: s.ctx.hostname, resolver: s.ctx.resolver,
  });
  s.log.info({ spf: checks.spf.result, dkim: checks.dkim.map((d) => `${d.domain}:${d.result}`), dmarc: checks.dmarc.result, iprev: checks.iprev.result }, 'message checks');
  if (checks.dmarc.reject && !s.ctx.localserve) throw new SmtpError(550, '5.7.1', `rejected by the DMARC policy of ${checks.dmarc.domain}`); // RFC 7489 §6.7: p=reject asks for rejection in SMTP
  // Members-only lists: the envelope sender was a member at RCPT; now it must also be verified (SPF or DKIM), or anyone could claim a member's address.
  // Compared as A-labels: SPF and DKIM results may name a domain either way.
  const senderDomain = tx.mailFrom?.asciiDomain ?? '';
  const senderVerified = checks.verifiedDomains.some((d) => domainToASCII(d) === senderDomain);
  if (tx.recipients.some((r) => r.target.kind === 'local' && r.target.membersOnly) && !senderVerified) throw new SmtpError(550, '5.7.1', 'only verified members may send to this list');
  const final = await spool.withPrefix(s.ctx.spoolDir, Buffer.from(receivedField(s, tx, id, checks.iprev.result === 'pass' ? checks.iprev.hostname : undefined) + checks.headers));
  try {
    const context: RuleContext = { mailFrom: tx.mailFrom?.address ?? '', fields, verifiedDomains: checks.verifiedDomains };
    const deliveries = tx.recipients.flatMap((r) => (r.target.kind === 'local' ? r.target.deliveries : []));
    await deliverLocal(s, deliveries, final, context);
    if (s.ctx.rateLimits) {
      s.ctx.rateLimits.messages.add(s.remoteIP);
      s.ctx.rateLimits.bytes.add(s.remoteIP, final.size);
    }
  } finally {
    await final.discard();
  }
  s.reply(250, '2.0.0', `message delivered, id ${id}`);
}

interface RuleContext {
  mailFrom: string;
  fields: HeaderField[];
  verifiedDomains: string[];
}

/** The mailbox for a delivery: the first matching ruleset, else the destination's mailbox, else the inbox. */
function chooseMailbox(d: LocalDelivery, c: RuleContext): string {
  const dest = d.destination;
  if (!dest) return 'INBOX';
  for (const r of dest.rulesets) if (rulesetMatches(r, c)) return r.mailbox;
  return dest.mailbox ?? 'INBOX';
}

function rulesetMatches(r: Ruleset, c: RuleContext): boolean {
  if (r.smtpMailFromRegexp !== undefined && !new RegExp(r.smtpMailFromRegexp, 'iu').test(c.mailFrom)) return false;
  if (r.msgFromRegexp !== undefined) {
    const from = headerValue(c.fields, 'from');
    const a = from === null ? undefined : parseAddressList(from).find((x) => x.mailbox !== null);
    if (!a || !new RegExp(r.msgFromRegexp, 'iu').test(`${a.mailbox}@${a.host}`)) return false;
  }
  if (r.verifiedDomain !== undefined) {
    const want = r.verifiedDomain.toLowerCase();
    if (!c.verifiedDomains.some((d) => d === want || d.endsWith(`.${want}`))) return false;
  }
  for (const [name, value] of Object.entries(r.headersRegexp ?? {})) {
    const n = new RegExp(name, 'iu');
    const v = new RegExp(value, 'iu');
    if (!c.fields.some((f) => n.test(f.key) && v.test(unfold(f.value)))) return false;
  }
  return true;
}

/** Delivers into the store, one copy per account and mailbox; quotas are checked for all before any delivery. */
async function deliverLocal(s: Session, deliveries: readonly LocalDelivery[], final: Spool, c: RuleContext): Promise<void> {
  const targets = new Map<string, { account: string; mailbox: string }>();
  for (const d of deliveries) {
    const mailbox = chooseMailbox(d, c);
    targets.set(`${d.account}\0${mailbox}`, { account: d.account, mailbox });
  }
  const accounts = [...new Set([...targets.values()].map((t) => t.account))];
  for (const name of accounts) {
    await s.ctx.accounts.with(name, async (a) => {
      const q = await a.quota();
      const copies = [...targets.values()].filter((t) => t.account === name).length;
      if (q.limit !== null && q.used + copies * final.size > q.limit) {
        if (final.size > q.limit) throw new SmtpError(552, '5.2.2', 'message larger than the mailbox quota'); // RFC 3463 5.2.2 mailbox full, permanent: it never fits
        throw new SmtpError(452, '4.2.2', 'mailbox full'); // RFC 3463 4.2.2
      }
    });
  }
  await Promise.all([...targets.values()].map((t) => s.ctx.accounts.with(t.account, async (a) => {
    const data = final.data;
    const add = async () => (data ? a.append(t.mailbox, { data }) : a.deliver(t.mailbox, { spoolPath: await final.file() })); // small messages: one file, written by the store
    try {
      await add();
    } catch (e) {
      if (!isStoreError(e, 'NONEXISTENT') || t.mailbox === 'INBOX') throw storeToSmtp(e);
      await a.createMailbox(t.mailbox).catch((ce: unknown) => { if (!isStoreError(ce, 'ALREADYEXISTS')) throw ce; }); // ruleset target made on first use
      await add().catch((e2: unknown) => { throw storeToSmtp(e2); });
    }
  })));
}

function storeToSmtp(e: unknown): unknown {
  if (isStoreError(e, 'OVERQUOTA')) return new SmtpError(452, '4.2.2', 'mailbox full');
  return e;
}

async function submit(s: Session, tx: Transaction, spool: Spool, fields: HeaderField[], header: Buffer, complete: boolean): Promise<void> {
  const config = s.ctx.domains();
  const account = s.account!;
  const froms = fields.filter((f) => f.key === 'from');
  if (froms.length !== 1) throw new SmtpError(550, '5.6.0', 'message must have exactly one From header field'); // RFC 5322 §3.6
  const from = parseAddressList(froms[0]!.value).filter((a) => a.mailbox !== null);
  if (from.length !== 1) throw new SmtpError(550, '5.6.0', 'From must hold exactly one address'); // RFC 5322 §3.6.2 (more need a Sender; not for submission)
  const fromAddress = `${from[0]!.mailbox}@${from[0]!.host}`;
  if (!s.ctx.localserve && !maySendAs(config, account.name, fromAddress)) throw new SmtpError(550, '5.7.1', `From address ${fromAddress} is not an address of your account`); // RFC 3463 5.7.1

  const remote = tx.recipients.filter((r) => r.target.kind === 'remote');
  const acc = config.accounts[account.name];
  if (acc && !s.ctx.localserve) {
    const counts = await s.ctx.store.queue.submissionCounts(account.name, remote.map((r) => r.path.address));
    if (counts.messages >= acc.maxOutgoingMessagesPerDay) throw new SmtpError(451, '4.5.3', `daily limit of ${acc.maxOutgoingMessagesPerDay} messages reached`); // issue 3: 451 4.5.3
    if (counts.firstTimeRecipients + counts.newRecipients.length > acc.maxFirstTimeRecipientsPerDay) throw new SmtpError(451, '4.5.3', `daily limit of ${acc.maxFirstTimeRecipientsPerDay} first-time recipients reached`);
  }

  // The header as sent on: our Received on top, X-Mailcove-Extra-* taken out (they are for webhooks), Date and Message-ID added when missing (RFC 6409 §8.2, §8.3).
  const id = s.messageId();
  const extra: Record<string, string> = {};
  const parts: Buffer[] = [Buffer.from(receivedField(s, tx, id))];
  let pos = 0;
  for (const f of fields) {
    if (!f.key.startsWith('x-mailcove-extra-')) continue;
    extra[f.name.slice('x-mailcove-extra-'.length)] = unfold(f.value);
    parts.push(header.subarray(pos, f.start));
    pos = f.end;
  }
  const blank = complete ? (header.at(-2) === 13 ? 2 : 1) : 0; // the empty line ending the header
  parts.push(header.subarray(pos, header.length - blank));
  if (header.length - blank > 0 && header[header.length - blank - 1] !== 10) parts.push(Buffer.from('\r\n')); // a header without a final line break
  if (!fields.some((f) => f.key === 'date')) parts.push(Buffer.from(`Date: ${formatDate(new Date())}\r\n`));
  if (!fields.some((f) => f.key === 'message-id')) parts.push(Buffer.from(`Message-ID: <${randomBytes(12).toString('base64url')}@${s.listener.hostname}>\r\n`));
  parts.push(Buffer.from('\r\n'));
  let final = await spool.withPrefix(s.ctx.spoolDir, Buffer.concat(parts), header.length);
  try {
    const signers = await dkimSigners(s, config, from[0]!.host ?? '');
    if (signers.length > 0) {
      const signatures = await dkimSign(await final.source(), signers);
      const signed = await final.withPrefix(s.ctx.spoolDir, Buffer.from(signatures));
      await final.discard();
      final = signed;
    }
    const hold = tx.params.holdFor !== undefined ? Date.now() + tx.params.holdFor * 1000 : tx.params.holdUntil?.getTime();
    const held = hold !== undefined && hold > Date.now() && !s.ctx.localserve; // RFC 4865: a held message waits for every recipient, local ones too (the queue delivers them)
    const queued = held ? tx.recipients : remote;
    const deliveries = held ? [] : tx.recipients.flatMap((r) => (r.target.kind === 'local' ? r.target.deliveries : []));
    if (deliveries.length > 0) await deliverLocal(s, deliveries, final, { mailFrom: tx.mailFrom?.address ?? '', fields, verifiedDomains: [] });
    if (queued.length > 0) {
      const tlsRequired = headerValue(fields, 'tls-required');
      await s.ctx.store.queue.add({
        account: account.name, mailFrom: tx.mailFrom?.address ?? '', smtputf8: tx.params.smtputf8, body: tx.params.body ?? '7BIT',
        ...(tx.params.envid !== undefined ? { envid: tx.params.envid } : {}), ...(tx.params.ret !== undefined ? { ret: tx.params.ret } : {}),
        requireTLS: tx.params.requireTLS ? true : tlsRequired !== null && unfold(Buffer.from(tlsRequired)).toLowerCase() === 'no' ? false : null, // RFC 8689 §4, §5
        recipients: queued.map((r) => ({
          address: r.path.address, domain: r.path.asciiDomain,
          ...(r.params.notify !== undefined ? { notify: r.params.notify === 'NEVER' ? 'NEVER' : r.params.notify.join(',') } : {}),
          ...(r.params.orcpt !== undefined ? { orcpt: `${r.params.orcpt.addrType};${r.params.orcpt.address}` } : {}),
        })),
        spoolPath: await final.file(), nextAttempt: new Date(Math.max(Date.now(), hold ?? 0)), extra,
        ...(acc?.uniqueMailFromId && tx.mailFrom ? { fromid: newFromId() } : {}), // issue 5: DSNs coming back are matched by this id
      });
    }
  } finally {
    await final.discard();
  }
  s.reply(250, '2.0.0', `message accepted, id ${id}`);
}

async function dkimSigners(s: Session, config: DomainsConfig, fromDomain: string): Promise<DkimSigner[]> {
  const n = normalizeDomain(fromDomain); // the From may use the A-label; config keys are U-labels
  if ('error' in n) return [];
  const domain = config.domains[n.domain];
  const dkim = domain?.dkim;
  if (!dkim) return [];
  const signers: DkimSigner[] = [];
  for (const name of dkim.sign) {
    const sel = dkim.selectors[name];
    if (!sel) continue;
    const file = isAbsolute(sel.privateKeyFile) ? sel.privateKeyFile : join(s.ctx.configDir, sel.privateKeyFile);
    signers.push({
      domain: n.ascii, selector: name, privateKeyPEM: await readFile(file, 'utf8'), canonicalization: sel.canonicalization, dontSealHeaders: sel.dontSealHeaders,
      ...(sel.headers ? { headers: sel.headers } : {}), ...(sel.expirationSeconds !== undefined ? { expirationSeconds: sel.expirationSeconds } : {}),
    });
  }
  return signers;
}
