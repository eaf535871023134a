// Where a RCPT TO goes, decided at RCPT time so that unknown users, relaying and lists
// that refuse the sender are answered per recipient (RFC 5321 §3.3): local accounts (through
// addresses, sub-addressing, catch-all and aliases), or, for submission, the outbound queue.
import { lookupAddress, type Destination, type DomainsConfig } from '../config/index.ts';
import { SmtpError, type SmtpPath } from '../smtp/index.ts';
import type { Session } from './session.ts';
import { simulatedFailure, type SimulatedFailure } from './simulate.ts';

/** One account mailbox decision to make at delivery: the destination that matched, for its mailbox and rulesets. */
export interface LocalDelivery {
  account: string;
  address: string; // the destination key that matched ('mjl@example.com' or '@example.com')
  destination: Destination | undefined; // undefined in localserve
}

export type RecipientTarget =
  | { kind: 'local'; deliveries: LocalDelivery[]; simulate?: SimulatedFailure; membersOnly?: boolean } // membersOnly: MX sender must be verified after DATA
  | { kind: 'remote' }; // submission to another domain: the outbound queue

export async function resolveRecipient(s: Session, path: SmtpPath): Promise<RecipientTarget> {
  const ls = s.ctx.localserve;
  if (ls) {
    const failure = s.submission ? simulatedFailure(path.localpart) : undefined;
    if (failure?.stage === 'rcptto') throw await failure.error(s);
    if (s.submission && !failure) return { kind: 'remote' }; // issue 5: submissions go through the queue, which delivers back into the account
    return { kind: 'local', deliveries: [{ account: ls.account, address: path.address, destination: undefined }], ...(failure ? { simulate: failure } : {}) };
  }
  const config = s.ctx.domains();
  const address = path.domain === '' ? postmaster(config, s.ctx.hostname) : path.address; // RFC 5321 §4.5.1: "<postmaster>" must be accepted
  const target = address === undefined ? undefined : lookupAddress(config, address);
  if (!target) {
    if (path.domain !== '' && !config.domains[path.domain]) {
      if (s.submission) return { kind: 'remote' };
      throw new SmtpError(550, '5.7.1', 'relaying not permitted'); // RFC 5321 §3.6.2; RFC 3463 5.7.1
    }
    await s.delay(s.ctx.unknownRecipientDelayMs); // slows down harvesting of valid addresses
    throw new SmtpError(550, '5.1.1', 'no such user'); // RFC 3463 5.1.1 bad destination mailbox address
  }
  if (target.kind === 'account') {
    await checkQuota(s, target.account);
    return { kind: 'local', deliveries: [{ account: target.account, address: target.address, destination: target.destination }] };
  }
  if (!target.alias.postPublic && !mayPostToList(s, config, target.alias.members)) throw new SmtpError(550, '5.7.1', 'only members may send to this list');
  const deliveries: LocalDelivery[] = [];
  for (const member of target.alias.members) {
    const t = lookupAddress(config, member);
    if (t?.kind !== 'account') continue; // the config checker makes members accounts' addresses
    if (deliveries.some((d) => d.account === t.account)) continue; // one copy per account
    await checkQuota(s, t.account);
    deliveries.push({ account: t.account, address: t.address, destination: t.destination });
  }
  return { kind: 'local', deliveries, ...(!target.alias.postPublic && !s.submission ? { membersOnly: true } : {}) };
}

/** Whether one of the addresses is delivered to the account. */
function ownsAny(config: DomainsConfig, account: string, addresses: readonly string[]): boolean {
  return addresses.some((m) => { const t = lookupAddress(config, m); return t?.kind === 'account' && t.account === account; });
}

/** Submission: the account may send as the address: its own (sub-addresses and catch-all too), or an alias that allows members to send as it and has the account as member. */
export function maySendAs(config: DomainsConfig, account: string, address: string): boolean {
  const t = lookupAddress(config, address);
  if (t?.kind === 'account') return t.account === account;
  return t?.kind === 'alias' && t.alias.allowMsgFrom && ownsAny(config, account, t.alias.members);
}

/** A member may post: on submission the account owns a member address; on MX the envelope sender is a member. */
function mayPostToList(s: Session, config: DomainsConfig, members: readonly string[]): boolean {
  if (s.submission && s.account) return ownsAny(config, s.account.name, members);
  const from = s.tx?.mailFrom;
  if (!from) return false;
  const sender = lookupAddress(config, from.address);
  return members.some((m) => m === from.address || (sender?.kind === 'account' && lookupAddress(config, m)?.address === sender.address));
}

function postmaster(config: DomainsConfig, hostname: string): string | undefined {
  for (const domain of [hostname, ...Object.keys(config.domains)]) if (lookupAddress(config, `postmaster@${domain}`)) return `postmaster@${domain}`;
  return undefined;
}

/** RCPT for an account whose quota is used up: 452 4.2.2 (RFC 3463 "mailbox full", temporary: it may be emptied). */
async function checkQuota(s: Session, account: string): Promise<void> {
  await s.ctx.accounts.with(account, async (a) => {
    const q = await a.quota();
    if (q.limit !== null && q.used >= q.limit) throw new SmtpError(452, '4.2.2', 'mailbox full');
  });
}
