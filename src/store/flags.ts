// System flags as a bit mask (how they are stored) and keyword validation.
import { StoreError } from './errors.ts';
import { systemFlags, type SystemFlag } from './types.ts';

export const seenBit = 1;
export const deletedBit = 8;
const bits: Record<SystemFlag, number> = { '\\Seen': seenBit, '\\Answered': 2, '\\Flagged': 4, '\\Deleted': deletedBit, '\\Draft': 16 };
const byFolded = new Map<string, SystemFlag>(systemFlags.map((f) => [f.toLowerCase(), f]));

/** The bit mask of system flags; names compare case-insensitively (RFC 9051 §2.3.2). */
export function flagBits(flags: readonly string[] | undefined): number {
  let mask = 0;
  for (const f of flags ?? []) {
    const flag = byFolded.get(f.toLowerCase());
    if (!flag) throw new StoreError('BADFLAG', `not a storable system flag: ${f}`); // \Recent is session state (RFC 9051 §2.3.2)
    mask |= bits[flag];
  }
  return mask;
}

const namesByMask: SystemFlag[][] = Array.from({ length: 32 }, (_, mask) => systemFlags.filter((f) => (mask & bits[f]) !== 0));

/** The flag names of a bit mask (a fresh array: callers may change it). */
export function flagNames(mask: number): SystemFlag[] {
  return (namesByMask[mask & 31] ?? []).slice();
}

export const maxKeywordLength = 100;

/** Whether checkKeyword accepts k. */
export function isKeyword(k: string): boolean {
  try {
    checkKeyword(k);
    return true;
  } catch {
    return false;
  }
}

/** A keyword must be an IMAP atom (RFC 9051 §9 flag-keyword) and not look like a system flag. */
export function checkKeyword(k: string): void {
  if (k.length === 0 || k.length > maxKeywordLength) throw new StoreError('BADFLAG', `keyword length must be 1..${maxKeywordLength}`);
  // RFC 9051 §9: ATOM-CHAR is any CHAR except atom-specials: ( ) { SP CTL % * " \ ]
  if (!/^[\x21-\x7e]+$/.test(k) || /[(){%*"\\\]]/.test(k)) throw new StoreError('BADFLAG', `not a keyword atom: ${JSON.stringify(k)}`);
}
