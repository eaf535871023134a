// SELECT and EXAMINE (RFC 9051 §6.3.2/§6.3.3) with CONDSTORE and QRESYNC parameters
// (RFC 7162 §3.1.8, §3.2.5), CLOSE (§6.4.1) and UNSELECT (RFC 3691).
import type { MessageMeta } from '../store/index.ts';
import { bad } from './errors.ts';
import type { Parser } from './parser.ts';
import { MailboxView, formatSet } from './view.ts';
import { contains, normalize, toUidSet } from './uidranges.ts';
import { mailboxName, flagList } from './encode.ts';
import type { CommandSpec, Session } from './session.ts';

interface QresyncParams {
  uidValidity: number;
  modseq: number;
  knownUids?: [number, number][];
  seqMatch?: { seqs: [number, number][]; uids: [number, number][] };
}

function uidRanges(p: Parser): [number, number][] {
  const set = p.sequenceSet(false);
  if (set.kind !== 'set' || set.ranges.some(([a, b]) => a === '*' || b === '*')) throw bad('"*" not allowed here'); // RFC 7162 §3.2.5: known-uids has no "*"
  return set.ranges as [number, number][];
}

async function select(s: Session, p: Parser, readOnly: boolean): Promise<{ code: string; text: string }> {
  p.sp();
  const name = s.mailboxName(p.astring());
  let condstore = false;
  let qresync: QresyncParams | undefined;
  if (p.take(' ')) {
    // RFC 4466 §2.1 select-params
    p.list(() => {
      if (p.takeKeyword('CONDSTORE')) condstore = true; // RFC 7162 §3.1.8
      else if (p.takeKeyword('QRESYNC')) {
        if (!s.qresync) throw bad('QRESYNC parameter without ENABLE QRESYNC'); // RFC 7162 §3.2.5
        p.sp();
        p.expect('(');
        const uidValidity = p.nzNumber();
        p.sp();
        const modseq = p.nzNumber(Number.MAX_SAFE_INTEGER);
        const q: QresyncParams = { uidValidity, modseq };
        if (p.take(' ')) {
          if (p.peek() !== 0x28) q.knownUids = uidRanges(p);
          if (q.knownUids === undefined || p.take(' ')) {
            p.expect('(');
            const seqs = uidRanges(p);
            p.sp();
            const uids = uidRanges(p);
            p.expect(')');
            q.seqMatch = { seqs, uids };
          }
        }
        p.expect(')');
        qresync = q;
      } else p.fail('CONDSTORE or QRESYNC');
    });
  }
  p.end();
  const store = s.account!.store;
  if (s.view) {
    // RFC 7162 §3.2.11, RFC 9051 §6.3.2: the old mailbox is closed (even if this SELECT fails).
    s.view = undefined;
    s.state = 'auth';
    s.untagged('OK [CLOSED] previous mailbox closed');
  }
  if (condstore) s.enabled.add('CONDSTORE'); // RFC 7162 §3.1.8: SELECT (CONDSTORE) enables it
  const status = await store.mailboxStatus(name);
  const rows = await store.messageMeta(name);
  const uids = rows.map((r) => r.uid);
  const view = new MailboxView({ name, uidValidity: status.uidValidity, readOnly, uids, uidNext: status.uidNext, highestModseq: status.highestModseq });
  s.knownKeywords = new Set(rows.flatMap((r) => r.keywords));
  if (!s.rev2) {
    // RFC 3501 §2.3.2: SELECT takes \Recent for this session; EXAMINE shows it without taking it (as Dovecot does).
    const first = readOnly ? s.ctx.recent.claimed(s.account!.name, name, status.uidValidity) + 1 : s.ctx.recent.claim(s.account!.name, name, status.uidValidity, status.uidNext - 1);
    if (first > 0) for (const u of uids) if (u >= first) view.recent.add(u);
  }
  s.view = view;
  s.state = 'selected';
  s.untagged(`${view.count} EXISTS`); // RFC 9051 §7.4.1
  if (!s.rev2) {
    s.untagged(`${view.recent.size} RECENT`); // RFC 3501 §7.3.2
    const firstUnseen = rows.findIndex((r) => !r.flags.includes('\\Seen'));
    if (firstUnseen >= 0) s.untagged(`OK [UNSEEN ${firstUnseen + 1}] first unseen`); // RFC 3501 §6.3.1
  }
  s.untagged(`OK [UIDVALIDITY ${status.uidValidity}] UIDs valid`);
  s.untagged(`OK [UIDNEXT ${status.uidNext}] predicted next UID`);
  s.sendFlags();
  if (s.condstore) s.untagged(`OK [HIGHESTMODSEQ ${status.highestModseq}] highest`); // RFC 7162 §3.1.2.1
  if (s.rev2) s.untagged('LIST () "/" ', mailboxName(name, s.utf8)); // RFC 9051 §6.3.2
  if (qresync && qresync.uidValidity === status.uidValidity) await resync(s, view, rows, qresync);
  return { code: readOnly ? 'READ-ONLY' : 'READ-WRITE', text: `${readOnly ? 'EXAMINE' : 'SELECT'} completed` }; // RFC 9051 §7.1
}

/** RFC 7162 §3.2.5.2: VANISHED (EARLIER) for expunges since the client's MODSEQ, then FETCH for changed messages. */
async function resync(s: Session, view: MailboxView, rows: readonly MessageMeta[], q: QresyncParams): Promise<void> {
  const store = s.account!.store;
  let since = q.modseq;
  if (q.seqMatch && !seqMatchHolds(view, q.seqMatch)) since = 0; // RFC 7162 §3.2.5.2: a mismatch: everything the client knows may be stale
  const known = q.knownUids ? normalize(q.knownUids.map(([a, b]): [number, number] => (a <= b ? [a, b] : [b, a]))) : undefined;
  const vanished = await store.vanishedSince(view.name, since, known ? toUidSet(known) : undefined);
  if (vanished.length > 0) s.untagged(`VANISHED (EARLIER) ${formatSet(vanished)}`);
  for (const r of rows) {
    if (r.modseq <= q.modseq) continue;
    if (known && !contains(known, r.uid)) continue;
    view.noteModseq(r.uid, r.modseq);
    s.untagged(s.fetchPrefix(view.seqOf(r.uid), r.uid), `(${s.uidOnly ? '' : `UID ${r.uid} `}FLAGS ${flagList(s.flagsOf(r.uid, r.flags, r.keywords))} MODSEQ (${r.modseq}))`);
  }
}

function* numbers(ranges: readonly [number, number][]): Generator<number> {
  for (const [a, b] of ranges) for (let i = Math.min(a, b); i <= Math.max(a, b); i++) yield i;
}

function size(ranges: readonly [number, number][]): number {
  return ranges.reduce((n, [a, b]) => n + Math.abs(b - a) + 1, 0);
}

/**
 * RFC 7162 §3.2.5.2 sequence-match data: whether each sequence number the client names still
 * has the UID it pairs with. Sets of different sizes are ignored (treated as holding); the
 * comparison walks at most the mailbox's size, however large the client's ranges.
 */
function seqMatchHolds(view: MailboxView, m: { seqs: [number, number][]; uids: [number, number][] }): boolean {
  const count = size(m.seqs);
  if (count !== size(m.uids)) return true;
  if (count > view.count) return false; // a sequence number beyond the mailbox: the client's view is stale
  const uids = numbers(m.uids);
  for (const seq of numbers(m.seqs)) if (view.uids[seq - 1] !== uids.next().value) return false;
  return true;
}

export const selectCommands: Record<string, CommandSpec> = {
  SELECT: { states: ['auth', 'selected'], run: (s, p) => select(s, p, false) },
  EXAMINE: { states: ['auth', 'selected'], run: (s, p) => select(s, p, true) },
  CLOSE: {
    states: ['selected'],
    async run(s, p) {
      p.end();
      const v = s.view!;
      s.view = undefined;
      s.state = 'auth';
      if (!v.readOnly) await s.account!.store.expunge(v.name, v.uids.length > 0 ? MailboxView.toUidSet(v.uids) : []); // RFC 9051 §6.4.1: silently, only messages the client knows
    },
  },
  UNSELECT: {
    states: ['selected'],
    async run(s, p) {
      p.end();
      s.view = undefined; // RFC 3691 §2: no expunge
      s.state = 'auth';
    },
  },
};
