// Filters for queue operations (list, hold, release, schedule, fail, drop) and for the
// retired history: every given criterion must match.
import { domainToASCII } from 'node:url';
import type { QueuedMessage, QueuedRecipient, RetiredRecipient } from '../store/index.ts';

export interface QueueFilter {
  ids?: number[]; // queue entry (recipient) ids
  account?: string;
  from?: string; // substring of the MAIL FROM address, case-insensitive
  to?: string; // substring of the recipient address (so a domain works too), case-insensitive
  held?: boolean;
  submittedBefore?: number; // ms since epoch
  submittedAfter?: number;
  nextAttemptBefore?: number;
  nextAttemptAfter?: number;
}

export interface RetiredFilter {
  ids?: number[];
  account?: string;
  from?: string;
  to?: string;
  success?: boolean;
  retiredAfter?: number;
  fromid?: string;
}

const has = (s: string, part: string | undefined) => part === undefined || s.toLowerCase().includes(part.toLowerCase());

export function matchesQueued(f: QueueFilter, m: QueuedMessage, r: QueuedRecipient): boolean {
  return (
    (f.ids === undefined || f.ids.includes(r.id)) &&
    (f.account === undefined || m.account === f.account) &&
    has(m.mailFrom, f.from) &&
    has(r.address, f.to) &&
    (f.held === undefined || r.held === f.held) &&
    (f.submittedBefore === undefined || m.received.getTime() < f.submittedBefore) &&
    (f.submittedAfter === undefined || m.received.getTime() > f.submittedAfter) &&
    (f.nextAttemptBefore === undefined || r.nextAttempt.getTime() < f.nextAttemptBefore) &&
    (f.nextAttemptAfter === undefined || r.nextAttempt.getTime() > f.nextAttemptAfter)
  );
}

export function matchesRetired(f: RetiredFilter, r: RetiredRecipient): boolean {
  return (
    (f.ids === undefined || f.ids.includes(r.id)) &&
    (f.account === undefined || r.account === f.account) &&
    has(r.mailFrom, f.from) &&
    has(r.address, f.to) &&
    (f.success === undefined || r.success === f.success) &&
    (f.retiredAfter === undefined || r.retired.getTime() > f.retiredAfter) &&
    (f.fromid === undefined || r.fromid === f.fromid)
  );
}

/** A hold rule matches when each non-empty field equals the message's (domains compared lowercased). */
/** The MAIL FROM domain as rules and routes compare it: A-label (as recipient domains are kept), lowercased. */
export function senderDomain(m: Pick<QueuedMessage, 'mailFrom'>): string {
  const d = m.mailFrom.slice(m.mailFrom.lastIndexOf('@') + 1);
  return (domainToASCII(d) || d).toLowerCase();
}

export function holdRuleMatches(rule: { account: string; senderDomain: string; recipientDomain: string }, m: QueuedMessage, r: QueuedRecipient): boolean {
  const sender = senderDomain(m);
  return (rule.account === '' || rule.account === m.account) && (rule.senderDomain === '' || rule.senderDomain.toLowerCase() === sender) && (rule.recipientDomain === '' || rule.recipientDomain.toLowerCase() === r.domain.toLowerCase());
}
