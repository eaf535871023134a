// APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502), binary literals (RFC 3516 §4.4),
// UTF8 (RFC 6855 §4) and APPENDUID (RFC 4315 §3); REPLACE and UID REPLACE (RFC 8508).
import type { AppendInput, Added } from '../store/index.ts';
import { isStoreError } from '../store/index.ts';
import { bad, no } from './errors.ts';
import type { Literal, Parser } from './parser.ts';
import type { CommandCall, CommandSpec, Ok, Session } from './session.ts';
import { splitFlags } from './messages.ts';
import { MailboxView, formatSet } from './view.ts';

interface AppendMessage {
  flags: string[];
  keywords: string[];
  internalDate: Date | undefined;
  literal: Literal;
}

/** RFC 9051 §9 append-message: [SP flag-list] [SP date-time] SP append-data. */
function appendMessage(s: Session, p: Parser): AppendMessage {
  let flags: { flags: string[]; keywords: string[] } = { flags: [], keywords: [] };
  let internalDate: Date | undefined;
  if (p.peek() === 0x28) {
    flags = splitFlags(p.flagList());
    p.sp();
  }
  if (p.peek() === 0x22) {
    internalDate = p.dateTime();
    p.sp();
  }
  let literal: Literal;
  if (p.takeKeyword('UTF8')) {
    // RFC 6855 §4: UTF8 (literal8)
    if (!s.utf8) throw bad('UTF8 APPEND needs ENABLE UTF8=ACCEPT');
    p.sp();
    p.expect('(');
    literal = p.literal();
    p.expect(')');
  } else {
    if (!p.atLiteral()) p.fail('a literal with the message');
    literal = p.literal();
  }
  const size = literal.kind === 'memory' ? literal.data.length : literal.size;
  if (size === 0) throw no('CANNOT', 'empty message');
  return { ...flags, internalDate, literal };
}

function input(m: AppendMessage): AppendInput {
  const base = { flags: m.flags, keywords: m.keywords, ...(m.internalDate ? { internalDate: m.internalDate } : {}) };
  return m.literal.kind === 'memory' ? { ...base, data: m.literal.data } : { ...base, spoolPath: m.literal.path };
}

async function mailboxMustExist(s: Session, name: string): Promise<void> {
  try {
    await s.account!.store.mailboxStatus(name);
  } catch (e) {
    if (isStoreError(e, 'NONEXISTENT')) throw no('TRYCREATE', `mailbox ${name} does not exist`); // RFC 9051 §6.3.12
    throw e;
  }
}

async function append(s: Session, p: Parser): Promise<Ok> {
  p.sp();
  const name = s.mailboxName(p.astring());
  const messages: AppendMessage[] = [];
  do {
    p.sp();
    messages.push(appendMessage(s, p));
  } while (!p.atEnd()); // RFC 3502 §6: more messages follow
  p.end();
  await mailboxMustExist(s, name);
  const store = s.account!.store;
  const added: Added[] = [];
  try {
    for (const m of messages) added.push(await store.append(name, input(m)));
  } catch (e) {
    // RFC 3502 §2: MULTIAPPEND is all or nothing; undo what was appended.
    if (added.length > 0) {
      const uids = MailboxView.toUidSet(added.map((a) => a.uid));
      await store.storeFlags(name, uids, { mode: 'add', flags: ['\\Deleted'] }).then(() => store.expunge(name, uids)).catch((err: unknown) => s.log.error({ err }, 'undoing a failed MULTIAPPEND'));
    }
    if (isStoreError(e, 'OVERQUOTA')) throw no('OVERQUOTA', 'mailbox quota exceeded'); // RFC 9208 §4.3
    throw e;
  }
  const uidValidity = added[0]!.uidValidity;
  return { code: `APPENDUID ${uidValidity} ${formatSet(added.map((a) => a.uid))}`, text: 'APPEND completed' }; // RFC 4315 §3 uid-set, as ranges (appended UIDs ascend)
}

async function replace(s: Session, p: Parser, c: CommandCall): Promise<Ok | void> {
  p.sp();
  const seqOrUid = p.nzNumber();
  p.sp();
  const target = s.mailboxName(p.astring());
  p.sp();
  const m = appendMessage(s, p);
  p.end();
  const v = s.view!;
  if (v.readOnly) throw no('READ-ONLY', 'mailbox is read-only (EXAMINE)'); // RFC 8508 §3.3
  const uid = c.uid ? seqOrUid : v.uids[seqOrUid - 1];
  if (uid === undefined) throw bad('invalid sequence number');
  if (c.uid && !v.has(uid)) throw no('NONEXISTENT', 'no message with that UID'); // RFC 8508 §3.3
  await mailboxMustExist(s, target);
  const r = await s.account!.store.replace(v.name, uid, target, input(m));
  s.untagged(`OK [APPENDUID ${r.uidValidity} ${r.uid}] replacement appended`); // RFC 8508 §3.3
  if (r.expunged) s.tellExpunged([uid]);
}

export const appendCommands: Record<string, CommandSpec> = {
  APPEND: { states: ['auth', 'selected'], run: append },
  REPLACE: { states: ['selected'], run: replace },
  'UID REPLACE': { states: ['selected'], run: replace },
};
