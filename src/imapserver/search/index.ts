// SEARCH and UID SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4), with ESEARCH return options
// (RFC 4731), SEARCHRES (RFC 5182), CONDSTORE MODSEQ (RFC 7162 §3.1.5) and MULTISEARCH
// (RFC 7377 ESEARCH IN (...)). Cheap criteria are decided from the rows; message content
// is read only for messages that could still match.
import type { Account, MessageMeta, Uid } from '../../store/index.ts';
import { hierarchySeparator } from '../../store/index.ts';
import { ImapError, bad, no } from '../errors.ts';
import { mailboxName } from '../encode.ts';
import type { Parser, SequenceSet } from '../parser.ts';
import type { CommandCall, CommandSpec, Ok, Session } from '../session.ts';
import { MailboxView, formatSet } from '../view.ts';
import { needsContent, parseCriteria, usesModseq, type SearchKey } from './keys.ts';
import { MessageContent, evaluate, type SearchContext } from './match.ts';

type ReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE';

interface SearchArgs {
  returns: Set<ReturnOption> | undefined; // undefined: no RETURN (RFC 3501 SEARCH response for rev1)
  key: SearchKey;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

function parseReturn(p: Parser): Set<ReturnOption> {
  p.sp();
  const opts = p.list(() => {
    const o = p.atom('a return option').toUpperCase();
    if (!['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE'].includes(o)) throw bad(`unknown RETURN option ${o}`); // RFC 4731 §3.1
    return o as ReturnOption;
  }, true);
  return new Set(opts.length === 0 ? ['ALL'] : opts); // RFC 4731 §3.1: RETURN () means ALL
}

/** [RETURN (...)] [CHARSET x] criteria (RFC 9051 §9 search, RFC 4731 §3.1). */
function parseSearch(s: Session, p: Parser, sequences: boolean): SearchArgs {
  p.sp();
  let returns: Set<ReturnOption> | undefined;
  if (p.takeKeyword('RETURN')) {
    returns = parseReturn(p);
    p.sp();
  }
  let charset = 'UTF-8';
  if (p.takeKeyword('CHARSET')) {
    p.sp();
    charset = p.astring().toString('latin1').toUpperCase();
    p.sp();
  }
  if (charset !== 'UTF-8' && charset !== 'US-ASCII') throw no('BADCHARSET (UTF-8 US-ASCII)', `charset ${charset} not supported`); // RFC 9051 §6.4.4
  const key = parseCriteria(p, {
    sequences,
    text: (b) => {
      try {
        return utf8Decoder.decode(b);
      } catch {
        throw bad('search string is not UTF-8');
      }
    },
  });
  p.end();
  return { returns, key };
}

function collectSets(k: SearchKey, out: (SearchKey & { k: 'seq' | 'uid' })[]): void {
  if (k.k === 'seq' || k.k === 'uid') out.push(k);
  else if (k.k === 'not') collectSets(k.key, out);
  else if (k.k === 'or') (collectSets(k.a, out), collectSets(k.b, out));
  else if (k.k === 'and') for (const x of k.keys) collectSets(x, out);
}

/** The UIDs a sequence-set key names among `uids` (ascending); numbers beyond the mailbox name nothing. */
function resolveSet(set: SequenceSet, byUid: boolean, uids: readonly Uid[], saved: readonly Uid[]): Set<Uid> {
  if (set.kind === 'saved') return new Set(saved); // RFC 5182 §2.1
  const out = new Set<Uid>();
  const n = uids.length;
  const max = byUid ? (uids[n - 1] ?? 0) : n;
  for (const [a, b] of set.ranges) {
    let lo = a === '*' ? max : a;
    let hi = b === '*' ? max : b;
    if (lo > hi) [lo, hi] = [hi, lo];
    if (byUid) {
      for (const u of uids) if (u >= lo && u <= hi) out.add(u);
    } else for (let i = Math.max(lo, 1); i <= Math.min(hi, n); i++) out.add(uids[i - 1]!);
  }
  return out;
}

/** Matching rows of one mailbox, ascending by UID. */
async function run(store: Account, mailbox: string, rows: MessageMeta[], key: SearchKey, ctx: SearchContext): Promise<MessageMeta[]> {
  const matched: MessageMeta[] = [];
  const undecided: MessageMeta[] = [];
  for (const r of rows) {
    const v = await evaluate(key, r, ctx, undefined);
    if (v === true) matched.push(r);
    else if (v === null) undecided.push(r);
  }
  if (undecided.length > 0 && needsContent(key)) {
    for (let i = 0; i < undecided.length; i += 200) {
      const chunk = undecided.slice(i, i + 200);
      for (const full of await store.messages(mailbox, { uids: MailboxView.toUidSet(chunk.map((r) => r.uid)) })) {
        if (await evaluate(key, full, ctx, new MessageContent(store, full))) matched.push(full);
      }
    }
    matched.sort((a, b) => a.uid - b.uid);
  }
  return matched;
}

/** The ESEARCH result data (RFC 4731 §3.1) for numbers (sequence numbers or UIDs), ascending. */
function esearchData(nums: readonly number[], returns: ReadonlySet<ReturnOption>, modseq: number | undefined): string {
  const out: string[] = [];
  if (nums.length > 0) {
    if (returns.has('MIN')) out.push(`MIN ${nums[0]}`);
    if (returns.has('MAX')) out.push(`MAX ${nums[nums.length - 1]}`);
    if (returns.has('ALL')) out.push(`ALL ${formatSet(nums)}`);
  }
  if (returns.has('COUNT')) out.push(`COUNT ${nums.length}`);
  if (modseq !== undefined && nums.length > 0) out.push(`MODSEQ ${modseq}`); // RFC 7162 §3.1.5
  return out.join(' ');
}

async function search(s: Session, p: Parser, c: CommandCall): Promise<Ok | void> {
  const v = s.view!;
  let args: SearchArgs;
  try {
    args = parseSearch(s, p, !s.uidOnly);
  } catch (e) {
    if (e instanceof ImapError) v.saved = []; // RFC 5182 §2.1: a failed SEARCH ... SAVE empties the saved result; we cannot tell SAVE was asked, so any failure does
    throw e;
  }
  const store = s.account!.store;
  const modseq = usesModseq(args.key);
  if (modseq) s.enableCondstore(); // RFC 7162 §3.1
  const rows = (await store.messageMeta(v.name)).filter((r) => v.has(r.uid));
  const keys: (SearchKey & { k: 'seq' | 'uid' })[] = [];
  collectSets(args.key, keys);
  const ctx: SearchContext = { sets: new Map(keys.map((k) => [k, resolveSet(k.set, k.k === 'uid', v.uids, v.saved)])), recent: s.rev2 ? new Set() : v.recent, now: Date.now() };
  const matched = await run(store, v.name, rows, args.key, ctx);
  const nums = matched.map((r) => (c.uid ? r.uid : v.seqOf(r.uid)));
  const returns0 = args.returns;
  // RFC 4731 §3.2 / RFC 7162 §3.1.5: with only MIN and/or MAX, MODSEQ is of the messages returned, else the highest of all matches.
  const reported = returns0 && !returns0.has('ALL') && !returns0.has('COUNT') && (returns0.has('MIN') || returns0.has('MAX')) && matched.length > 0
    ? [...(returns0.has('MIN') ? [matched[0]!] : []), ...(returns0.has('MAX') ? [matched[matched.length - 1]!] : [])]
    : matched;
  const highest = modseq && matched.length > 0 ? Math.max(...reported.map((r) => r.modseq)) : undefined;
  const returns = args.returns ?? (s.rev2 || s.uidOnly ? new Set<ReturnOption>(['ALL']) : undefined); // RFC 9051 §6.4.4: IMAP4rev2 always answers ESEARCH
  if (!returns) {
    s.untagged(`SEARCH${nums.map((n) => ' ' + n).join('')}${highest !== undefined ? ` (MODSEQ ${highest})` : ''}`); // RFC 3501 §7.2.5, RFC 7162 §3.1.5
    return;
  }
  if (returns.has('SAVE')) {
    // RFC 5182 §2.4: with MIN or MAX (and not ALL or COUNT) only those are saved.
    const onlyMinMax = (returns.has('MIN') || returns.has('MAX')) && !returns.has('ALL') && !returns.has('COUNT');
    v.saved = onlyMinMax ? [...(returns.has('MIN') && matched[0] ? [matched[0].uid] : []), ...(returns.has('MAX') && matched.length ? [matched[matched.length - 1]!.uid] : [])] : matched.map((r) => r.uid);
    if (returns.size === 1) return; // RFC 5182 §2.4: SAVE alone returns no ESEARCH
  }
  const data = esearchData(nums, returns, highest);
  s.untagged(`ESEARCH (TAG "${c.tag}")${c.uid ? ' UID' : ''}${data ? ' ' + data : ''}`); // RFC 4731 §3.1
}

/** RFC 7377 §2 source mailboxes of ESEARCH IN (...). */
async function sourceMailboxes(s: Session, p: Parser): Promise<string[]> {
  const store = s.account!.store;
  const all = (await store.listMailboxes()).map((m) => m.name);
  const subs = new Set(await store.listSubscriptions());
  const out = new Set<string>();
  p.list(() => {
    const kind = p.atom('a mailbox filter').toUpperCase();
    const names = (): string[] => {
      p.sp();
      if (p.peek() === 0x28) return p.list(() => s.mailboxName(p.astring()));
      return [s.mailboxName(p.astring())];
    };
    switch (kind) {
      case 'SELECTED':
        if (s.view) out.add(s.view.name);
        break;
      case 'PERSONAL':
        for (const n of all) out.add(n);
        break;
      case 'INBOXES':
        out.add('INBOX');
        break;
      case 'SUBSCRIBED':
        for (const n of all) if (subs.has(n)) out.add(n);
        break;
      case 'MAILBOXES':
        for (const n of names()) if (all.includes(n)) out.add(n);
        break;
      case 'SUBTREE':
        for (const m of names()) for (const n of all) if (n === m || n.startsWith(m + hierarchySeparator)) out.add(n);
        break;
      case 'SUBTREE-ONE':
        for (const m of names()) for (const n of all) if (n === m || (n.startsWith(m + hierarchySeparator) && !n.slice(m.length + 1).includes(hierarchySeparator))) out.add(n);
        break;
      default:
        throw bad(`unknown source mailbox filter ${kind}`);
    }
  });
  return [...out].sort();
}

async function multisearch(s: Session, p: Parser, c: CommandCall): Promise<void> {
  let mailboxes: string[] | undefined;
  if (p.peekText(4).toUpperCase() === ' IN ') {
    p.sp();
    p.expectKeyword('IN');
    p.sp();
    mailboxes = await sourceMailboxes(s, p);
  } else if (s.view) mailboxes = [s.view.name];
  else throw bad('ESEARCH without IN needs a selected mailbox'); // RFC 7377 §2
  const args = parseSearch(s, p, false);
  const returns = args.returns ?? new Set<ReturnOption>(['ALL']);
  if (returns.has('SAVE')) throw bad('SAVE is not allowed in MULTISEARCH'); // RFC 7377 §2
  const store = s.account!.store;
  const modseq = usesModseq(args.key);
  const keys: (SearchKey & { k: 'seq' | 'uid' })[] = [];
  collectSets(args.key, keys);
  for (const name of mailboxes) {
    const st = await store.mailboxStatus(name);
    const rows = await store.messageMeta(name);
    const uids = rows.map((r) => r.uid);
    const ctx: SearchContext = { sets: new Map(keys.map((k) => [k, resolveSet(k.set, true, uids, [])])), recent: new Set(), now: Date.now() };
    const matched = await run(store, name, rows, args.key, ctx);
    if (matched.length === 0 && !returns.has('COUNT')) continue; // RFC 7377 §2: mailboxes without matches may be left out
    const highest = modseq && matched.length > 0 ? Math.max(...matched.map((r) => r.modseq)) : undefined;
    const data = esearchData(matched.map((r) => r.uid), returns, highest);
    s.untagged(`ESEARCH (TAG "${c.tag}" MAILBOX `, mailboxName(name, s.utf8), ` UIDVALIDITY ${st.uidValidity}) UID${data ? ' ' + data : ''}`); // RFC 7377 §2
  }
}

export const searchCommands: Record<string, CommandSpec> = {
  SEARCH: { states: ['selected'], run: search },
  'UID SEARCH': { states: ['selected'], run: search },
  ESEARCH: { states: ['auth', 'selected'], run: multisearch },
};

