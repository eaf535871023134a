// A session's view of its selected mailbox (RFC 9051 §2.3.1.2): the UIDs in sequence-number
// order as this client knows them. It changes only when the session tells the client
// (EXISTS, EXPUNGE/VANISHED), never behind its back, so sequence numbers stay consistent
// however other sessions and protocols change the mailbox.
import type { ModSeq, Uid, UidSet } from '../store/index.ts';
import { bad } from './errors.ts';
import type { SequenceSet } from './parser.ts';
import { normalize } from './uidranges.ts';

export class MailboxView {
  name: string;
  readonly uidValidity: number;
  readonly readOnly: boolean;
  /** UIDs in ascending order; the sequence number of uids[i] is i + 1. */
  uids: Uid[];
  uidNext: Uid;
  highestModseq: ModSeq;
  /** RFC 3501 §2.3.2 \Recent, for IMAP4rev1 sessions. */
  readonly recent = new Set<Uid>();
  /** RFC 5182 SEARCHRES: the saved result, as UIDs (so expunges keep it valid). */
  saved: Uid[] = [];
  /** The MODSEQ of the newest state told per UID: a change event that arrives later but is older is not told (RFC 7162 §3.1.1: a client sees MODSEQs only grow). */
  readonly #told = new Map<Uid, ModSeq>();
  /** UIDs expunged by others and not yet told to the client (held during FETCH, STORE, SEARCH: RFC 9051 §7.5.1). */
  readonly expungedPending = new Set<Uid>();

  constructor(o: { name: string; uidValidity: number; readOnly: boolean; uids: Uid[]; uidNext: Uid; highestModseq: ModSeq }) {
    this.name = o.name;
    this.uidValidity = o.uidValidity;
    this.readOnly = o.readOnly;
    this.uids = o.uids;
    this.uidNext = o.uidNext;
    this.highestModseq = o.highestModseq;
  }

  noteModseq(uid: Uid, modseq: ModSeq): void {
    if ((this.#told.get(uid) ?? 0) < modseq) this.#told.set(uid, modseq);
  }

  /** Whether the client was already told this or a newer state of the message. */
  toldSince(uid: Uid, modseq: ModSeq): boolean {
    return (this.#told.get(uid) ?? 0) >= modseq;
  }

  get count(): number {
    return this.uids.length;
  }

  /** The sequence number of a UID in the view, 0 when absent. */
  seqOf(uid: Uid): number {
    let lo = 0;
    let hi = this.uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.uids[mid]!;
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  has(uid: Uid): boolean {
    return this.seqOf(uid) !== 0;
  }

  /** Removes UIDs from the view, returning the sequence numbers they had, highest first (so each EXPUNGE stays valid as it is applied, RFC 9051 §7.5.1). */
  remove(uids: Iterable<Uid>): number[] {
    const seqs: number[] = [];
    for (const u of uids) {
      const s = this.seqOf(u);
      if (s !== 0) seqs.push(s);
    }
    seqs.sort((a, b) => b - a);
    if (seqs.length > 0) {
      const drop = new Set(uids);
      this.uids = this.uids.filter((u) => !drop.has(u));
      for (const u of drop) {
        this.#told.delete(u);
        this.recent.delete(u);
        this.expungedPending.delete(u);
      }
    }
    return seqs;
  }

  /** Appends newly seen UIDs (above all current ones). */
  add(uid: Uid): void {
    const last = this.uids[this.uids.length - 1];
    if (last !== undefined && uid <= last) return;
    this.uids.push(uid);
    if (uid >= this.uidNext) this.uidNext = uid + 1;
  }

  /**
   * The UIDs a sequence set names (RFC 9051 §9). By sequence number, a number beyond the
   * mailbox is a BAD; by UID, absent UIDs are skipped and "*" is the highest UID (RFC 9051 §6.4.9).
   * Ascending, without duplicates. The client's ranges are merged first, so the work is
   * bounded by the mailbox, however many overlapping ranges a command holds.
   */
  resolve(set: SequenceSet, byUid: boolean): Uid[] {
    if (set.kind === 'saved') return this.saved.filter((u) => this.has(u)); // RFC 5182 §2.1
    const n = this.uids.length;
    const ranges: [number, number][] = [];
    for (const [a, b] of set.ranges) {
      if (byUid) {
        // RFC 9051 §6.4.9: "*" names the highest UID even when a range starts above it, so "UID n:*" always includes the last message.
        const max = this.uids[n - 1] ?? 0;
        const lo = a === '*' ? max : a;
        const hi = b === '*' ? max : b;
        ranges.push(lo <= hi ? [lo, hi] : [hi, lo]);
        continue;
      }
      let lo = a === '*' ? n : a;
      let hi = b === '*' ? n : b;
      if (lo > hi) [lo, hi] = [hi, lo];
      if (lo < 1 || hi > n) throw bad(n === 0 ? 'mailbox is empty, no sequence numbers are valid' : `invalid sequence number: mailbox has ${n} messages`); // RFC 9051 §9 seq-number
      ranges.push([lo, hi]);
    }
    const out: Uid[] = [];
    for (const [lo, hi] of normalize(ranges)) {
      if (byUid) for (let i = lowerBound(this.uids, lo); i < n && this.uids[i]! <= hi; i++) out.push(this.uids[i]!);
      else for (let s = lo; s <= hi; s++) out.push(this.uids[s - 1]!);
    }
    return out;
  }

  /** A sorted UID list as the store's UidSet (ranges where consecutive). */
  static toUidSet(uids: readonly Uid[]): UidSet {
    const out: (Uid | [Uid, Uid])[] = [];
    for (let i = 0; i < uids.length; ) {
      let j = i;
      while (j + 1 < uids.length && uids[j + 1] === uids[j]! + 1) j++;
      out.push(i === j ? uids[i]! : [uids[i]!, uids[j]!]);
      i = j + 1;
    }
    return out;
  }
}

function lowerBound(a: readonly number[], v: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** RFC 9051 §9 sequence-set text for a sorted list of numbers ("1:3,7"). */
export function formatSet(nums: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < nums.length; ) {
    let j = i;
    while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
    out.push(i === j ? String(nums[i]) : `${nums[i]}:${nums[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
