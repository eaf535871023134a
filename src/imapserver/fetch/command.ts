// FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9): resolve the set, read rows from the store
// in batches (metadata rows when no item needs the MIME index), set \Seen for non-PEEK body
// fetches, then write each message's response, streaming large literals with backpressure.
// RFC 7162 CHANGEDSINCE and VANISHED, RFC 9586 UIDFETCH responses.
import { Readable } from 'node:stream';
import type { MessageMeta, MessageRow, Uid, UidSet } from '../../store/index.ts';
import { isStoreError } from '../../store/index.ts';
import { bad } from '../errors.ts';
import type { Parser, SequenceSet } from '../parser.ts';
import type { CommandCall, Session } from '../session.ts';
import { MailboxView, formatSet } from '../view.ts';
import { needsIndex, parseFetch, setsSeen } from './items.ts';
import { MessageBytes } from './message.ts';
import { buildResponse, metaResponse, type Piece, type StreamedLiteral } from './respond.ts';

const batchSize = 500; // messages per store query with their MIME index: memory stays bounded for FETCH 1:* of any mailbox
const metaBatchSize = 5000; // the same for metadata rows (no MIME index), which are small
const flushAt = 256 * 1024; // queued output written out once it grows past this
const maxVanishedLine = 4000; // RFC 7162 §3.2.10 sets no limit; long UID lists are split over several lines

export async function fetch(s: Session, p: Parser, c: CommandCall): Promise<void> {
  p.sp();
  const set = p.sequenceSet();
  p.sp();
  const req = parseFetch(p);
  const v = s.view!;
  const store = s.account!.store;
  if (req.vanished && (!c.uid || !s.qresync)) throw bad('VANISHED needs UID FETCH and ENABLE QRESYNC'); // RFC 7162 §3.2.6
  const uids = v.resolve(set, c.uid); // RFC 9051 §9: a sequence number beyond the mailbox is BAD
  if (req.changedSince !== undefined || req.items.some((i) => i.kind === 'MODSEQ')) s.enableCondstore(); // RFC 7162 §3.1: CONDSTORE-enabling; the first tells HIGHESTMODSEQ
  if (req.vanished) {
    // RFC 7162 §3.2.6: the UIDs of the requested set expunged since CHANGEDSINCE, also those this session never saw, before the FETCH responses.
    const gone = await store.vanishedSince(v.name, req.changedSince!, requestedUids(set, v));
    for (const line of splitSet(gone)) s.untagged(`VANISHED (EARLIER) ${line}`);
  }
  if (uids.length === 0) return;
  const index = req.items.some(needsIndex);
  const markSeen = !v.readOnly && req.items.some(setsSeen); // RFC 9051 §6.4.5; EXAMINE never changes flags (§6.3.3)
  const batch = index ? batchSize : metaBatchSize;
  for (let i = 0; i < uids.length; i += batch) {
    const query = { uids: MailboxView.toUidSet(uids.slice(i, i + batch)), ...(req.changedSince !== undefined ? { changedSince: req.changedSince } : {}) };
    // Rows of messages expunged by another session (still in this view, RFC 9051 §7.5.1) are absent: those messages are skipped.
    const rows: (MessageMeta | MessageRow)[] = index ? await store.messages(v.name, query) : await store.messageMeta(v.name, query);
    const seenSet = markSeen ? await setSeen(s, v, rows) : new Set<Uid>(); // one flag write per batch; a NO later in the batch (UNKNOWN-CTE) leaves the batch \Seen
    if (!index) {
      // Only row items: one string per batch, no per-message awaits.
      let text = '';
      for (const r of rows) {
        const seq = v.seqOf(r.uid);
        if (seq === 0) continue;
        text += metaResponse(s, seq, r, req.items, { uid: c.uid, flags: false, modseq: s.condstore });
        v.noteModseq(r.uid, r.modseq);
        if (text.length > flushAt) {
          s.raw(Buffer.from(text, 'latin1'));
          text = '';
          await s.flush();
        }
      }
      if (text) s.raw(Buffer.from(text, 'latin1'));
      continue;
    }
    for (const r of rows) {
      const seq = v.seqOf(r.uid);
      if (seq === 0) continue;
      const implied = seenSet.has(r.uid);
      const extra = { uid: c.uid || (implied && s.condstore), flags: implied, modseq: s.condstore }; // RFC 7162 §3.1: UID and MODSEQ with an implicit \Seen
      const bytes = 'mimeIndex' in r ? new MessageBytes(store, r) : undefined;
      try {
        let pieces: Piece[];
        try {
          pieces = await buildResponse(s, bytes, seq, r, req.items, extra);
        } catch (e) {
          if (isStoreError(e, 'NONEXISTENT')) continue; // expunged (and its file removed) by another session since the rows were read: skipped like an absent row
          throw e;
        }
        await write(s, pieces);
        v.noteModseq(r.uid, r.modseq); // a change event older than this answer must not follow it (RFC 7162 §3.1: MODSEQ never goes back)
      } finally {
        bytes?.close();
      }
      if (s.queuedBytes > flushAt) await s.flush();
    }
  }
}

/** Sets \Seen on the rows that lack it; the UIDs whose flags changed (rows are updated in place). */
async function setSeen(s: Session, v: MailboxView, rows: (MessageMeta | MessageRow)[]): Promise<Set<Uid>> {
  const changed = new Set<Uid>();
  const unseen = rows.filter((r) => !r.flags.includes('\\Seen')).map((r) => r.uid);
  if (unseen.length === 0) return changed;
  const res = await s.account!.store.storeFlags(v.name, MailboxView.toUidSet(unseen), { mode: 'add', flags: ['\\Seen'] });
  const byUid = new Map(res.updated.map((u) => [u.uid, u]));
  for (const r of rows) {
    const u = byUid.get(r.uid);
    if (!u) continue;
    s.ownModseqs.add(u.modseq); // this answer tells the change; it is not echoed as an untagged FETCH later
    r.flags = u.flags;
    r.keywords = u.keywords;
    r.modseq = u.modseq;
    changed.add(r.uid);
  }
  return changed;
}

/** The UIDs a UID FETCH names, also absent ones, for VANISHED: "*" is the highest UID assigned; "$" the saved result (RFC 5182). */
function requestedUids(set: SequenceSet, v: MailboxView): UidSet {
  if (set.kind === 'saved') return MailboxView.toUidSet([...v.saved].sort((a, b) => a - b));
  const max = Math.max(v.uidNext - 1, 1);
  return set.ranges.map(([a, b]) => {
    const lo = a === '*' ? max : a;
    const hi = b === '*' ? max : b;
    return lo <= hi ? ([lo, hi] as const) : ([hi, lo] as const);
  });
}

/** A sorted UID list as sequence-set text, in pieces of at most maxVanishedLine characters. */
function splitSet(uids: readonly Uid[]): string[] {
  const text = formatSet([...uids].sort((a, b) => a - b));
  const lines: string[] = [];
  let rest = text;
  while (rest.length > maxVanishedLine) {
    const cut = rest.lastIndexOf(',', maxVanishedLine);
    if (cut <= 0) break;
    lines.push(rest.slice(0, cut));
    rest = rest.slice(cut + 1);
  }
  if (rest) lines.push(rest);
  return lines;
}

/** Queues one message's response; its large literals stream. A failure inside a literal leaves the protocol out of step: the connection is closed. */
async function write(s: Session, pieces: Piece[]): Promise<void> {
  for (const piece of pieces) {
    if (Buffer.isBuffer(piece)) {
      s.raw(piece);
      continue;
    }
    s.raw(piece.head);
    try {
      await s.stream(Readable.from(exactly(piece)));
    } catch (e) {
      s.log.error({ err: e }, 'message data failed inside a FETCH literal; closing the connection');
      s.destroy();
      throw e;
    }
  }
}

/** A literal's bytes, exactly as many as its head announced. */
async function* exactly(l: StreamedLiteral): AsyncGenerator<Buffer> {
  let left = l.size;
  for await (const c of l.body) {
    if (left === 0) break;
    const b = c.length > left ? c.subarray(0, left) : c;
    left -= b.length;
    yield b;
  }
  if (left > 0) throw new Error(`message data ended ${left} octets before the literal's end`);
}
