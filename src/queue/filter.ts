// Filters for queue operations (list, hold, release, schedule, fail, drop) and for the
// retired history: every given criterion must match.
import { domainToASCII } from 'node:url';
import type { QueuedMessage, QueuedRecipient, RetiredQuery } from '../store/index.ts';

/** Criteria for queued entries: the retired history's ids, account and address substrings, and the queue's own. */
export interface QueueFilter extends Pick<RetiredQuery, 'ids' | 'account' | 'from' | 'to'> {
  held?: boolean;
  submittedBefore?: number; // ms since epoch
  submittedAfter?: number;
  nextAttemptBefore?: number;
  nextAttemptAfter?: number;
}

/** Criteria for the retired history (filtered in SQL by the store). */
export type RetiredFilter = RetiredQuery;

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
