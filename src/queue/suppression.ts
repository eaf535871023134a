// Per-account suppression lists: recipients that failed for good are not tried again.
// Lookups use a base address so that variants of one mailbox match one entry.
import type { DeliveryAttempt } from '../store/index.ts';

/**
 * The lookup key of an address: lowercased, the sub-address from the first '+' removed and
 * dots in the localpart removed (as the big mailbox providers treat them), so that
 * 'John.Doe+news@Example.com' and 'johndoe@example.com' are one entry.
 */
export function baseAddress(address: string): string {
  const at = address.lastIndexOf('@');
  const local = (at < 0 ? address : address.slice(0, at)).toLowerCase();
  const domain = at < 0 ? '' : address.slice(at + 1).toLowerCase();
  const plus = local.indexOf('+');
  const base = (plus > 0 ? local.slice(0, plus) : local).replaceAll('.', '');
  return `${base}@${domain}`;
}

const suppressCodes = new Set([550, 551, 553, 556]); // RFC 5321 §4.2.3: mailbox unavailable, not local, name not allowed; RFC 7505 §4.2
const suppressEnhanced = new Set(['5.1.1', '5.1.2', '5.1.3', '5.1.6', '5.2.1', '5.7.1']); // RFC 3463: bad mailbox, bad system, bad syntax, moved, disabled, refused

/** Whether a permanent failure says the recipient will not take mail: then it is suppressed. */
export function suppressingFailure(a: Pick<DeliveryAttempt, 'code' | 'enhanced'>): boolean {
  if (a.enhanced) return suppressEnhanced.has(a.enhanced);
  return a.code !== undefined && suppressCodes.has(a.code);
}

/**
 * Messages to a recipient that failed in a row (each after all its attempts, or permanently)
 * after which it is suppressed. Counted per message, not per attempt: a greylisting or
 * briefly unreachable server fails attempts, not messages.
 */
export const suppressAfterFailures = 3;
