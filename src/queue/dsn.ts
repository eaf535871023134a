// Delivery status notifications from the queue (RFC 3464, RFC 6533): which recipients get
// one (RFC 3461 NOTIFY), what goes in it (RET), and where it goes: into the sender's own
// account when the sender is local, else through the queue with a null reverse-path.
import { buffer } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import { lookupAddress, type DomainsConfig } from '../config/index.ts';
import { composeDsn, type DsnRecipient } from '../smtp/index.ts';
import type { Account, QueuedMessage, QueuedRecipient, QueueStore } from '../store/index.ts';

export type DsnKind = 'failed' | 'delayed' | 'delivered' | 'relayed';

/** RFC 3461 §4.1: NOTIFY=NEVER gets nothing; without NOTIFY we report failures and delays (§4.1 leaves the default to us). */
export function wantsDsn(r: Pick<QueuedRecipient, 'notify'>, kind: DsnKind): boolean {
  const notify = r.notify?.toUpperCase().split(',') ?? ['FAILURE', 'DELAY'];
  if (notify.includes('NEVER')) return false;
  return notify.includes(kind === 'failed' ? 'FAILURE' : kind === 'delayed' ? 'DELAY' : 'SUCCESS');
}

export interface DsnEntry {
  recipient: QueuedRecipient;
  kind: DsnKind;
  status: string; // RFC 3463 x.y.z
  diagnostic?: string; // SMTP reply text
  remoteMta?: string;
  willRetryUntil?: Date;
}

export interface DsnSink {
  store: QueueStore;
  domains: () => DomainsConfig;
  hostname: string;
  /** Appends to an account's INBOX (the account opened by the caller's cache). */
  withAccount<T>(name: string, fn: (a: Account) => Promise<T>): Promise<T>;
  /** localserve: every DSN goes to this account. */
  localAccount?: string;
}

/** Sends one DSN for a message covering the entries (all of one kind per DSN reads best to a person). */
export async function sendDsn(sink: DsnSink, m: QueuedMessage, entries: readonly DsnEntry[]): Promise<'none' | 'local' | 'queued'> {
  if (m.mailFrom === '' || entries.length === 0) return 'none'; // RFC 3461 §6.2 / RFC 5321 §4.5.5: never a DSN for a DSN
  // RFC 3461 §4.3: RET=FULL returns the message, but only in a failure DSN, and (as Postfix's bounce_size_limit
  // does) only up to fullReturnLimit; otherwise, and by default, the header alone, read without the body.
  const full = m.ret === 'FULL' && entries.some((e) => e.kind === 'failed') && m.size <= fullReturnLimit;
  const original = full ? await buffer(await sink.store.openMessage(m.id)) : await readHeader(await sink.store.openMessage(m.id));
  const recipients: DsnRecipient[] = entries.map((e) => ({
    finalRecipient: e.recipient.address,
    ...(e.recipient.orcpt ? { originalRecipient: e.recipient.orcpt } : {}), // kept decoded by the SMTP server
    action: e.kind,
    status: e.status,
    ...(e.remoteMta ? { remoteMta: e.remoteMta } : {}),
    ...(e.diagnostic ? { diagnostic: e.diagnostic } : {}),
    ...(e.recipient.lastAttempt ? { lastAttempt: e.recipient.lastAttempt } : {}),
    ...(e.willRetryUntil ? { willRetryUntil: e.willRetryUntil } : {}),
  }));
  const { message, smtputf8, body } = composeDsn({
    reportingMta: sink.hostname, from: `MAILER-DAEMON@${sink.hostname}`, to: m.mailFrom, ...(m.envid !== undefined ? { envid: m.envid } : {}),
    arrivalDate: m.received, recipients, original, ret: full ? 'FULL' : 'HDRS', messageIdDomain: sink.hostname,
  });
  const local = sink.localAccount ?? localAccountOf(sink.domains(), m.mailFrom);
  if (local !== undefined) {
    await sink.withAccount(local, (a) => a.append('INBOX', { data: message }));
    return 'local';
  }
  const domain = m.mailFrom.slice(m.mailFrom.lastIndexOf('@') + 1);
  await sink.store.addData({
    account: '', mailFrom: '', smtputf8, body, requireTLS: null,
    recipients: [{ address: m.mailFrom, domain: asciiDomain(domain) }], nextAttempt: new Date(), extra: {}, data: message,
  });
  return 'queued';
}

/** Largest message returned whole in a failure DSN; larger ones come back as their header. */
export const fullReturnLimit = 10 * 1024 * 1024;
const maxHeader = 1024 * 1024;

/** The header block of a message (through the empty line), read from the stream until it ends, at most maxHeader. */
async function readHeader(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const c of stream as AsyncIterable<Buffer>) {
      chunks.push(c);
      size += c.length;
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end >= 0) return all.subarray(0, end + 4);
      if (size >= maxHeader) return all.subarray(0, maxHeader);
      chunks.splice(0, chunks.length, all);
    }
    return Buffer.concat(chunks);
  } finally {
    stream.destroy();
  }
}

function localAccountOf(c: DomainsConfig, address: string): string | undefined {
  const t = lookupAddress(c, address);
  return t?.kind === 'account' ? t.account : undefined;
}

function asciiDomain(d: string): string {
  try {
    return new URL(`http://${d}`).hostname;
  } catch {
    return d.toLowerCase();
  }
}
