// Sequence-set search keys (RFC 9051 §9 sequence-set, RFC 5182 "$") resolved once per
// search to sorted UID ranges: membership is a binary search, memory stays proportional to
// the ranges the client wrote, and a set every match must be in narrows what the store reads.
import type { Uid, UidSet } from '../store/index.ts';
import type { SequenceSet } from './parser.ts';

/** Sorted, disjoint, non-adjacent, inclusive UID ranges. */
export type UidRanges = readonly (readonly [Uid, Uid])[];

export function normalize(ranges: (readonly [Uid, Uid])[]): UidRanges {
  const sorted = ranges.filter(([a, b]) => a <= b).sort((x, y) => x[0] - y[0]);
  const out: [Uid, Uid][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** Ranges of a sorted or unsorted list of UIDs. */
export function fromUids(uids: readonly Uid[]): UidRanges {
  return normalize(uids.map((u) => [u, u] as const));
}

/**
 * The UIDs a set names, given the UIDs the client can address (ascending: the view's, or a
 * whole mailbox's in MULTISEARCH). By sequence number, numbers beyond the mailbox name
 * nothing (a search asks, it does not act: Dovecot and mox answer so too); by UID, "*" is the
 * highest UID, and "n:*" includes it even when n is above it (RFC 9051 §6.4.9).
 */
export function resolveSet(set: SequenceSet, byUid: boolean, uids: readonly Uid[], saved: readonly Uid[]): UidRanges {
  if (set.kind === 'saved') return fromUids(saved); // RFC 5182 §2.1
  const n = uids.length;
  const out: [Uid, Uid][] = [];
  for (const [a, b] of set.ranges) {
    if (byUid) {
      const max = uids[n - 1] ?? 0;
      const lo = a === '*' ? max : a;
      const hi = b === '*' ? max : b;
      out.push(lo <= hi ? [lo, hi] : [hi, lo]);
      continue;
    }
    let lo = a === '*' ? n : a;
    let hi = b === '*' ? n : b;
    if (lo > hi) [lo, hi] = [hi, lo];
    lo = Math.max(lo, 1);
    hi = Math.min(hi, n);
    // Sequence numbers lo..hi are exactly the view's UIDs between these two: UIDs only grow, so no other message lies between them.
    if (lo <= hi) out.push([uids[lo - 1]!, uids[hi - 1]!]);
  }
  return normalize(out);
}

export function contains(r: UidRanges, uid: Uid): boolean {
  let lo = 0;
  let hi = r.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const [a, b] = r[mid]!;
    if (uid < a) hi = mid - 1;
    else if (uid > b) lo = mid + 1;
    else return true;
  }
  return false;
}

export function intersect(x: UidRanges, y: UidRanges): UidRanges {
  const out: [Uid, Uid][] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const [a1, b1] = x[i]!;
    const [a2, b2] = y[j]!;
    const lo = Math.max(a1, a2);
    const hi = Math.min(b1, b2);
    if (lo <= hi) out.push([lo, hi]);
    if (b1 < b2) i++;
    else j++;
  }
  return out;
}

/** As the store's UidSet (single UIDs where a range has one). */
export function toUidSet(r: UidRanges): UidSet {
  return r.map(([a, b]) => (a === b ? a : ([a, b] as const)));
}
