// SELECT and EXAMINE (RFC 9051 §6.3.2/§6.3.3) with CONDSTORE and QRESYNC parameters
// (RFC 7162 §3.1.8, §3.2.5), CLOSE (§6.4.1) and UNSELECT (RFC 3691).
import type { MessageMeta, Uid } from '../store/index.ts';
import { bad } from './errors.ts';
import type { Parser } from './parser.ts';
import { MailboxView, formatSet } from './view.ts';
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

function inRanges(n: number, ranges: readonly [number, number][]): boolean {
  return ranges.some(([a, b]) => n >= Math.min(a, b) && n <= Math.max(a, b));
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
  if (q.seqMatch) {
    // RFC 7162 §3.2.5.2: if the client's sequence-to-UID pairs still hold, nothing below them changed; otherwise report expunges from the first mismatch on.
    const { seqs, uids } = q.seqMatch;
    const seqList = expand(seqs);
    const uidList = expand(uids);
    if (seqList.length === uidList.length) {
      for (let i = 0; i < seqList.length; i++) {
        if (view.uids[seqList[i]! - 1] !== uidList[i]) {
          since = 0; // a mismatch: everything the client knows may be stale
          break;
        }
      }
    }
  }
  const known = q.knownUids ? MailboxView.toUidSet(expand(q.knownUids).sort((a, b) => a - b)) : undefined;
  const vanished = await store.vanishedSince(view.name, since, known);
  if (vanished.length > 0) s.untagged(`VANISHED (EARLIER) ${formatSet(vanished)}`);
  for (const r of rows) {
    if (r.modseq <= q.modseq) continue;
    if (q.knownUids && !inRanges(r.uid, q.knownUids)) continue;
    view.noteModseq(r.uid, r.modseq);
    s.untagged(s.fetchPrefix(view.seqOf(r.uid), r.uid), `(${s.uidOnly ? '' : `UID ${r.uid} `}FLAGS ${flagList(s.flagsOf(r.uid, r.flags, r.keywords))} MODSEQ (${r.modseq}))`);
  }
}

function expand(ranges: readonly [number, number][]): Uid[] {
  const out: Uid[] = [];
  for (const [a, b] of ranges) {
    if (Math.abs(b - a) > 1_000_000) throw bad('range too large');
    for (let i = Math.min(a, b); i <= Math.max(a, b); i++) out.push(i);
  }
  return out;
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
