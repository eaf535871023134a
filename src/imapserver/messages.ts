// Message commands of the selected state that change things: STORE (RFC 9051 §6.4.6 with
// RFC 7162 UNCHANGEDSINCE), COPY (§6.4.7, RFC 4315 COPYUID), MOVE (RFC 6851), EXPUNGE
// (§6.4.3) and UID EXPUNGE (RFC 4315 §2.1).
import { systemFlags, type Uid } from '../store/index.ts';
import { isStoreError } from '../store/index.ts';
import { bad, no } from './errors.ts';
import { flagList } from './encode.ts';
import type { Parser } from './parser.ts';
import type { CommandCall, CommandSpec, Ok, Session } from './session.ts';
import { MailboxView, formatSet } from './view.ts';

function writable(s: Session): MailboxView {
  const v = s.view!;
  if (v.readOnly) throw no('READ-ONLY', 'mailbox is read-only (EXAMINE)'); // RFC 9051 §6.3.3
  return v;
}

/** Splits flags from a command into system flags and keywords (RFC 9051 §2.3.2). */
export function splitFlags(flags: readonly string[]): { flags: string[]; keywords: string[] } {
  const out = { flags: [] as string[], keywords: [] as string[] };
  for (const f of flags) {
    if (f.startsWith('\\')) {
      const sys = systemFlags.find((x) => x.toLowerCase() === f.toLowerCase());
      if (sys) out.flags.push(sys);
      else if (f.toLowerCase() === '\\recent') continue; // RFC 3501 §2.3.2: \Recent cannot be set; ignored as Dovecot does
      else throw bad(`unknown system flag ${f}`); // RFC 9051 §2.3.2: no other \flags
    } else out.keywords.push(f);
  }
  return out;
}

async function store(s: Session, p: Parser, c: CommandCall): Promise<Ok | void> {
  p.sp();
  const set = p.sequenceSet();
  p.sp();
  let unchangedSince: number | undefined;
  if (p.peek() === 0x28) {
    // RFC 4466 store-modifiers; RFC 7162 §3.1.3 UNCHANGEDSINCE
    p.list(() => {
      p.expectKeyword('UNCHANGEDSINCE');
      p.sp();
      unchangedSince = p.number(Number.MAX_SAFE_INTEGER);
    });
    p.sp();
  }
  const op = p.atom('FLAGS, +FLAGS or -FLAGS').toUpperCase();
  const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(op);
  if (!m) throw bad('expected FLAGS, +FLAGS or -FLAGS');
  p.sp();
  const flags = splitFlags(p.flagList(true));
  p.end();
  const v = writable(s);
  if (unchangedSince !== undefined) s.enableCondstore(); // RFC 7162 §3.1: the modifier enables CONDSTORE
  const uids = v.resolve(set, c.uid);
  const silent = !!m[2];
  if (uids.length === 0) return;
  const result = await s.account!.store.storeFlags(v.name, MailboxView.toUidSet(uids), { mode: m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'replace', ...flags, ...(unchangedSince !== undefined ? { unchangedSince } : {}) });
  for (const u of result.updated) {
    s.ownModseqs.add(u.modseq);
    s.noteKeywords(u.keywords); // RFC 9051 §7.3.5: FLAGS again when a new keyword appears
  }
  const failed = new Set(result.failedUnchangedSince);
  if (!silent) {
    // RFC 9051 §6.4.6: the flags after the change, for every message named (also those that did not change).
    for (const r of await s.account!.store.messageMeta(v.name, { uids: MailboxView.toUidSet(uids) })) {
      const seq = v.seqOf(r.uid);
      if (seq === 0 || failed.has(r.uid)) continue;
      v.noteModseq(r.uid, r.modseq);
      s.untagged(s.fetchPrefix(seq, r.uid), `(${c.uid && !s.uidOnly ? `UID ${r.uid} ` : ''}FLAGS ${flagList(s.flagsOf(r.uid, r.flags, r.keywords))}${s.condstore ? ` MODSEQ (${r.modseq})` : ''})`);
    }
  } else if (s.condstore) {
    // RFC 7162 §3.1.3: with .SILENT the new MODSEQ of each changed message is still told.
    for (const u of result.updated) {
      const seq = v.seqOf(u.uid);
      v.noteModseq(u.uid, u.modseq);
      if (seq !== 0) s.untagged(s.fetchPrefix(seq, u.uid), `(${s.uidOnly ? '' : `UID ${u.uid} `}MODSEQ (${u.modseq}))`);
    }
  }
  if (failed.size > 0) {
    const ids = [...failed].map((u) => (c.uid ? u : v.seqOf(u))).filter((x) => x !== 0).sort((a, b) => a - b);
    return { code: `MODIFIED ${formatSet(ids)}`, text: 'some messages were modified since' }; // RFC 7162 §3.1.3
  }
}

async function copyOrMove(s: Session, p: Parser, c: CommandCall, move: boolean): Promise<Ok | void> {
  p.sp();
  const set = p.sequenceSet();
  p.sp();
  const target = s.mailboxName(p.astring());
  p.end();
  const v = move ? writable(s) : s.view!;
  const uids = v.resolve(set, c.uid);
  if (uids.length === 0) return; // RFC 4315 §3: no COPYUID when nothing was copied
  let mapping;
  try {
    const st = s.account!.store;
    if (!(await st.listMailboxes()).some((m) => m.name === target)) throw no('TRYCREATE', `mailbox ${target} does not exist`); // RFC 9051 §6.4.7
    mapping = move ? await st.move(v.name, MailboxView.toUidSet(uids), target) : await st.copy(v.name, MailboxView.toUidSet(uids), target);
  } catch (e) {
    if (isStoreError(e, 'NONEXISTENT')) throw no('TRYCREATE', e.message);
    throw e;
  }
  if (mapping.pairs.length === 0) return;
  const copyuid = `COPYUID ${mapping.uidValidity} ${formatUidList(mapping.pairs.map((x) => x[0]))} ${formatUidList(mapping.pairs.map((x) => x[1]))}`; // RFC 4315 §3
  if (!move) return { code: copyuid, text: `${c.name} completed` };
  s.untagged(`OK [${copyuid}] moved`); // RFC 6851 §4.3: COPYUID before the expunges
  s.tellExpunged(mapping.pairs.map((x) => x[0]));
}

/** UIDs in the order given, compressed into ranges only where consecutive and ascending (RFC 4315 §3 keeps the pairing by order). */
function formatUidList(uids: readonly Uid[]): string {
  const out: string[] = [];
  for (let i = 0; i < uids.length; ) {
    let j = i;
    while (j + 1 < uids.length && uids[j + 1] === uids[j]! + 1) j++;
    out.push(i === j ? String(uids[i]) : `${uids[i]}:${uids[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

async function expunge(s: Session, p: Parser, c: CommandCall): Promise<void> {
  let set;
  if (c.name === 'UID EXPUNGE') {
    p.sp();
    set = p.sequenceSet();
  }
  p.end();
  const v = writable(s);
  const uids = set ? v.resolve(set, true) : v.uids;
  if (uids.length === 0) return;
  const expunged = await s.account!.store.expunge(v.name, MailboxView.toUidSet(uids));
  s.tellExpunged(expunged); // RFC 9051 §6.4.3
}

export const messageCommands: Record<string, CommandSpec> = {
  STORE: { states: ['selected'], run: store },
  'UID STORE': { states: ['selected'], run: store },
  COPY: { states: ['selected'], run: (s, p, c) => copyOrMove(s, p, c, false) },
  'UID COPY': { states: ['selected'], run: (s, p, c) => copyOrMove(s, p, c, false) },
  MOVE: { states: ['selected'], run: (s, p, c) => copyOrMove(s, p, c, true) },
  'UID MOVE': { states: ['selected'], run: (s, p, c) => copyOrMove(s, p, c, true) },
  EXPUNGE: { states: ['selected'], run: expunge },
  'UID EXPUNGE': { states: ['selected'], run: expunge },
};
