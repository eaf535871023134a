// UID sets (RFC 9051 §9 sequence-set, already resolved to UIDs) normalised to sorted,
// disjoint inclusive ranges, so that each range is one indexed query.
import type { Uid, UidSet } from './types.ts';

export const maxUid = 0xffffffff; // RFC 9051 §2.3.1.1: 32-bit

export function uidRanges(set: UidSet): [Uid, Uid][] {
  const ranges = set.map((r): [Uid, Uid] => (typeof r === 'number' ? [r, r] : r[0] <= r[1] ? [r[0], r[1]] : [r[1], r[0]])); // RFC 9051 §9: n:m and m:n are the same
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [Uid, Uid][] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}
