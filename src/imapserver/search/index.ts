// SEARCH and UID SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4) with the ESEARCH return options
// (RFC 4731), SEARCHRES (RFC 5182), CONDSTORE MODSEQ (RFC 7162 §3.1.5), INPROGRESS (RFC
// 9585), and MULTISEARCH (RFC 7377: ESEARCH IN (...)). Criteria parse into a key tree
// (keys.ts); scan.ts decides messages from their rows and reads content only for the
// undecided ones.
import type { Account, MailboxInfo, MessageMeta, Uid } from '../../store/index.ts';
import { hierarchySeparator, isStoreError } from '../../store/index.ts';
import { bad, no } from '../errors.ts';
import { mailboxName } from '../encode.ts';
import type { Parser } from '../parser.ts';
import type { CommandCall, CommandSpec, Session } from '../session.ts';
import { formatSet, type MailboxView } from '../view.ts';
import { conjuncts, parseCriteria, setKeys, usesModseq, usesSaved, type SearchKey, type SetKey } from './keys.ts';
import type { SearchContext } from './match.ts';
import { searchRows, type Progress } from './scan.ts';
import { intersect, normalize, resolveSet, toUidSet, type UidRanges } from '../uidranges.ts';

type ReturnOption = 'MIN' | 'MAX' | 'ALL' | 'COUNT' | 'SAVE'; // RFC 4731 §3.1, RFC 5182 §2.2
const returnOptions: readonly string[] = ['MIN', 'MAX', 'ALL', 'COUNT', 'SAVE'];
const charsets = ['UTF-8', 'US-ASCII']; // RFC 9051 §6.4.4: both MUST be supported
const noRecent: ReadonlySet<Uid> = new Set();

/** RFC 9585: a search that reads content for longer than this tells the client it is still at it. Changed by tests. */
export const progressInterval = { ms: 10_000 };

interface SearchArgs {
  returns: ReadonlySet<ReturnOption> | undefined; // undefined: no RETURN (rev1 answers "* SEARCH")
  key: SearchKey;
}

/** Set as soon as SAVE was read, so that any failure after it empties the saved result (RFC 5182 §2.1). */
interface SaveSeen {
  save: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function searchString(b: Buffer): string {
  try {
    return utf8.decode(b); // US-ASCII is a subset; 8-bit bytes under US-ASCII are read as UTF-8, as clients mean them
  } catch {
    throw bad('search string is not valid UTF-8');
  }
}

/** RFC 4731 §3.1 search-return-opts: "RETURN" SP "(" [option *(SP option)] ")"; "()" means ALL. */
function parseReturn(p: Parser, seen: SaveSeen): Set<ReturnOption> {
  p.sp();
  const opts = p.list(() => {
    const o = p.atom('a RETURN option').toUpperCase();
    if (!returnOptions.includes(o)) throw bad(`unknown RETURN option ${o.slice(0, 40)}`); // RFC 4466 §2.6: unknown options are BAD
    if (o === 'SAVE') seen.save = true;
    return o as ReturnOption;
  }, true);
  return new Set(opts.length === 0 ? ['ALL'] : opts); // RFC 4731 §3.1
}

/** RFC 9051 §9 search: [search-return-opts] SP search-program, the cursor before the first SP. */
function parseSearch(p: Parser, sequences: boolean, seen: SaveSeen): SearchArgs {
  p.sp();
  let returns: Set<ReturnOption> | undefined;
  if (p.takeKeyword('RETURN')) {
    returns = parseReturn(p, seen);
    p.sp();
  }
  if (p.takeKeyword('CHARSET')) {
    p.sp();
    const charset = p.astring().toString('latin1').toUpperCase(); // RFC 9051 §9 charset = atom / quoted
    p.sp();
    // RFC 9051 §6.4.4: an unsupported charset is a tagged NO (not BAD) with BADCHARSET, also for IMAP4rev2 and UTF8=ACCEPT
    // sessions (RFC 6855 §3 would have BAD for any CHARSET there; CHARSET UTF-8 is harmless and RFC 9051's own examples send it).
    if (!charsets.includes(charset)) throw no(`BADCHARSET (${charsets.join(' ')})`, `charset ${charset.slice(0, 40)} not supported`);
  }
  return { returns, key: parseCriteria(p, { sequences, text: searchString }) };
}

/** The MODSEQ to report (RFC 7162 §3.1.5, RFC 4731 §3.2): the highest of the messages returned; with only MIN and/or MAX, of those. */
function reportedModseq(matched: readonly MessageMeta[], returns: ReadonlySet<ReturnOption> | undefined): number | undefined {
  if (matched.length === 0) return undefined; // RFC 7162 §3.1.5: no MODSEQ when nothing matched
  let reported = matched;
  if (returns && !returns.has('ALL') && !returns.has('COUNT') && (returns.has('MIN') || returns.has('MAX'))) {
    reported = [...(returns.has('MIN') ? [matched[0]!] : []), ...(returns.has('MAX') ? [matched[matched.length - 1]!] : [])];
  }
  let highest = 0;
  for (const r of reported) if (r.modseq > highest) highest = r.modseq;
  return highest;
}

/** RFC 5182 §2.4: SAVE keeps what was asked for; with MIN and/or MAX but neither ALL nor COUNT, only those messages. */
function savedResult(matched: readonly MessageMeta[], returns: ReadonlySet<ReturnOption>): Uid[] {
  if (returns.has('ALL') || returns.has('COUNT') || (!returns.has('MIN') && !returns.has('MAX'))) return matched.map((r) => r.uid);
  if (matched.length === 0) return [];
  const out = new Set<Uid>();
  if (returns.has('MIN')) out.add(matched[0]!.uid);
  if (returns.has('MAX')) out.add(matched[matched.length - 1]!.uid);
  return [...out];
}

/** The ESEARCH search-return-data (RFC 4731 §3.1, RFC 9051 §7.3.4) for ascending numbers; MIN, MAX and ALL only when something matched. */
function esearchData(nums: readonly number[], returns: ReadonlySet<ReturnOption>, modseq: number | undefined): string {
  const out: string[] = [];
  if (nums.length > 0) {
    if (returns.has('MIN')) out.push(`MIN ${nums[0]}`);
    if (returns.has('MAX')) out.push(`MAX ${nums[nums.length - 1]}`);
    if (returns.has('ALL')) out.push(`ALL ${formatSet(nums)}`);
  }
  if (returns.has('COUNT')) out.push(`COUNT ${nums.length}`);
  if (modseq !== undefined) out.push(`MODSEQ ${modseq}`); // RFC 4731 §3.2
  return out.join(' ');
}

/** RFC 9585 INPROGRESS while content is being read: at most one response per progressInterval. */
function progressReporter(s: Session, tag: string): Progress {
  let last = Date.now();
  const progressTag = tag.includes(']') ? 'NIL' : `"${tag}"`; // RFC 9585 §3: a "]" in the tag would end the response code early
  return async (done, goal) => {
    if (Date.now() - last < progressInterval.ms) return;
    last = Date.now();
    s.untagged(`OK [INPROGRESS (${progressTag} ${done} ${goal})] still searching`);
    await s.flush();
  };
}

/** Sets named by the set keys, resolved once; and the UIDs every match must be among (top-level set keys), to narrow what the store reads. */
function resolveSets(key: SearchKey, byUidOnly: boolean, uids: readonly Uid[], saved: readonly Uid[]): { sets: Map<SetKey, UidRanges>; narrow: UidRanges | undefined } {
  const sets = new Map<SetKey, UidRanges>();
  for (const k of setKeys(key)) sets.set(k, resolveSet(k.set, byUidOnly || k.k === 'uid', uids, saved));
  let narrow: UidRanges | undefined;
  for (const k of conjuncts(key)) {
    if (k.k !== 'seq' && k.k !== 'uid') continue;
    const r = sets.get(k)!;
    narrow = narrow ? intersect(narrow, r) : r;
  }
  return { sets, narrow };
}

/** The rows of a mailbox the search must look at: narrowed by top-level set keys and MODSEQ (RFC 7162 §3.1.5: MODSEQ n is modseq >= n). */
async function candidateRows(store: Account, mailbox: string, key: SearchKey, narrow: UidRanges | undefined): Promise<MessageMeta[]> {
  if (narrow && narrow.length === 0) return [];
  let changedSince = 0;
  for (const k of conjuncts(key)) if (k.k === 'modseq' && k.n - 1 > changedSince) changedSince = k.n - 1;
  // Many small ranges are read as their span (one query), filtered by the evaluation.
  const uids = narrow && narrow.length > 1000 ? toUidSet(normalize([[narrow[0]![0], narrow[narrow.length - 1]![1]]])) : narrow ? toUidSet(narrow) : undefined;
  return store.messageMeta(mailbox, { ...(uids ? { uids } : {}), ...(changedSince > 0 ? { changedSince } : {}) });
}

// state: selected
async function search(s: Session, p: Parser, c: CommandCall): Promise<void> {
  const v = s.view!;
  const seen: SaveSeen = { save: false };
  try {
    await searchSelected(s, v, p, c, seen);
  } catch (e) {
    if (seen.save) v.saved = []; // RFC 5182 §2.1: a SEARCH with SAVE that fails empties the saved result
    throw e;
  }
}

async function searchSelected(s: Session, v: MailboxView, p: Parser, c: CommandCall, seen: SaveSeen): Promise<void> {
  const args = parseSearch(p, !s.uidOnly, seen); // RFC 9586: no sequence numbers with UIDONLY
  const modseq = usesModseq(args.key);
  if (modseq) s.enableCondstore(); // RFC 7162 §3.1: SEARCH MODSEQ is a CONDSTORE-enabling command
  const store = s.account!.store;
  const { sets, narrow } = resolveSets(args.key, false, v.uids, v.saved);
  // Only messages the client knows: not those added since it was last told EXISTS (RFC 9051 §7.4.1); expunged ones are gone from the store.
  const rows = (await candidateRows(store, v.name, args.key, narrow)).filter((r) => v.has(r.uid));
  const ctx: SearchContext = { sets, recent: s.rev2 ? noRecent : v.recent, now: Date.now() };
  const matched = await searchRows(store, v.name, rows, args.key, ctx, progressReporter(s, c.tag));
  const nums = c.uid ? matched.map((r) => r.uid) : matched.map((r) => v.seqOf(r.uid));
  const returns = args.returns ?? (s.rev2 || s.uidOnly ? new Set<ReturnOption>(['ALL']) : undefined); // RFC 9051 §6.4.4: IMAP4rev2 always answers ESEARCH; RFC 9586 likewise
  const highest = modseq ? reportedModseq(matched, returns) : undefined;
  if (!returns) {
    s.untagged(`SEARCH${nums.map((n) => ' ' + n).join('')}${highest !== undefined ? ` (MODSEQ ${highest})` : ''}`); // RFC 3501 §7.2.5, RFC 7162 §3.1.5
    return;
  }
  if (returns.has('SAVE')) {
    v.saved = savedResult(matched, returns); // RFC 5182 §2.4
    if (returns.size === 1) return; // RFC 5182 §2.4: SAVE alone answers no ESEARCH
  }
  const data = esearchData(nums, returns, highest);
  s.untagged(`ESEARCH (TAG "${c.tag}")${c.uid ? ' UID' : ''}${data ? ' ' + data : ''}`); // RFC 4731 §3.1, RFC 9051 §7.3.4
}

// --- MULTISEARCH (RFC 7377)

type SourceFilter = { kind: 'selected' | 'inboxes' | 'personal' | 'subscribed' } | { kind: 'subtree' | 'subtree-one' | 'mailboxes'; names: string[] };

/** RFC 7377 esearch-source-opts after "IN" SP: "(" filter-mailboxes *(SP filter-mailboxes) [SP "(" scope-options ")"] ")". */
function parseSources(s: Session, p: Parser): SourceFilter[] {
  const out: SourceFilter[] = [];
  p.expect('(');
  for (;;) {
    const kind = p.atom('a mailbox filter').toLowerCase(); // RFC 5465 §6 filter-mailboxes
    switch (kind) {
      case 'selected':
      case 'selected-delayed': // RFC 5465 §6: delayed only matters for notifications
        out.push({ kind: 'selected' });
        break;
      case 'inboxes':
      case 'personal':
      case 'subscribed':
        out.push({ kind });
        break;
      case 'subtree':
      case 'subtree-one':
      case 'mailboxes': {
        p.sp();
        const names = p.peek() === 0x28 ? p.list(() => s.mailboxName(p.astring())) : [s.mailboxName(p.astring())]; // RFC 5465 §6 one-or-more-mailbox
        out.push({ kind, names });
        break;
      }
      default:
        throw bad(`unknown mailbox filter ${kind.slice(0, 40)}`);
    }
    if (!p.take(' ')) break;
    if (p.peek() === 0x28) throw bad('scope options are not supported'); // RFC 7377 §2: none are defined, so any is unknown: BAD
  }
  p.expect(')');
  return out;
}

/** The mailboxes the filters name, each once, sorted by name (RFC 7377 §2, filters of RFC 5465 §6). */
async function resolveSources(s: Session, filters: readonly SourceFilter[]): Promise<MailboxInfo[]> {
  const store = s.account!.store;
  const all = await store.listMailboxes();
  const byName = new Map(all.map((m) => [m.name, m]));
  const out = new Map<string, MailboxInfo>();
  const add = (m: MailboxInfo | undefined): void => void (m && out.set(m.name, m));
  for (const f of filters) {
    switch (f.kind) {
      case 'selected':
        if (!s.view) throw bad('"selected" needs a selected mailbox'); // RFC 7377 §2
        add(byName.get(s.view.name));
        break;
      case 'inboxes':
        add(byName.get('INBOX')); // RFC 5465 §6: where new mail is delivered; rules may deliver elsewhere too (todo: RFC 5465 §6 rule destinations from the account config)
        break;
      case 'personal':
        for (const m of all) add(m); // RFC 5465 §6: every mailbox is in the personal namespace
        break;
      case 'subscribed':
        for (const m of all) if (m.subscribed) add(m);
        break;
      case 'mailboxes':
        for (const n of f.names) add(byName.get(n)); // a mailbox that does not exist simply has no matches
        break;
      case 'subtree':
      case 'subtree-one':
        // RFC 5465 §6: the mailbox and those below it; subtree-one only one level down.
        for (const n of f.names) {
          for (const m of all) {
            if (m.name === n) add(m);
            else if (m.name.startsWith(n + hierarchySeparator) && (f.kind === 'subtree' || !m.name.slice(n.length + 1).includes(hierarchySeparator))) add(m);
          }
        }
        break;
    }
  }
  return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// state: authenticated or selected
async function multisearch(s: Session, p: Parser, c: CommandCall): Promise<void> {
  const seen: SaveSeen = { save: false };
  try {
    await multisearchRun(s, p, c, seen);
  } catch (e) {
    if (seen.save && s.view) s.view.saved = []; // RFC 5182 §2.1
    throw e;
  }
}

async function multisearchRun(s: Session, p: Parser, c: CommandCall, seen: SaveSeen): Promise<void> {
  let filters: SourceFilter[] = [{ kind: 'selected' }]; // RFC 7377 §2: without IN, the selected mailbox
  if (p.peekText(4).toUpperCase() === ' IN ') {
    p.sp();
    p.expectKeyword('IN');
    p.sp();
    filters = parseSources(s, p);
  }
  const args = parseSearch(p, false, seen); // RFC 7377 §2: results are UIDs; sequence numbers name nothing across mailboxes
  const mailboxes = await resolveSources(s, filters);
  const v = s.view;
  const onlySelected = !!v && mailboxes.length === 1 && mailboxes[0]!.name === v.name && mailboxes[0]!.uidValidity === v.uidValidity;
  if (seen.save && !onlySelected) throw bad('SAVE needs the selected mailbox as the only source'); // RFC 7377 §2
  if (usesSaved(args.key) && !onlySelected) throw bad('"$" refers to the selected mailbox only'); // RFC 5182 §2.1: the saved result is of the selected mailbox
  const modseq = usesModseq(args.key);
  if (modseq) s.enableCondstore(); // RFC 7162 §3.1
  const returns = args.returns ?? new Set<ReturnOption>(['ALL']); // RFC 7377 §2: as ESEARCH of RFC 4731, ALL by default
  const store = s.account!.store;
  const progress = progressReporter(s, c.tag);
  for (const m of mailboxes) {
    const sel = v && m.name === v.name && m.uidValidity === v.uidValidity ? v : undefined;
    let rows: MessageMeta[];
    try {
      rows = await store.messageMeta(m.name);
    } catch (e) {
      if (isStoreError(e, 'NONEXISTENT')) continue; // deleted since it was listed
      throw e;
    }
    // In the selected mailbox, only messages the client was told about (as SEARCH), with this session's \Recent.
    if (sel) rows = rows.filter((r) => sel.has(r.uid));
    const uids = sel ? sel.uids : rows.map((r) => r.uid);
    const { sets } = resolveSets(args.key, true, uids, sel?.saved ?? []);
    const ctx: SearchContext = { sets, recent: sel && !s.rev2 ? sel.recent : noRecent, now: Date.now() };
    const matched = await searchRows(store, m.name, rows, args.key, ctx, progress);
    if (sel && returns.has('SAVE')) sel.saved = savedResult(matched, returns); // RFC 5182 §2.4
    if (matched.length === 0) continue; // RFC 7377 §2: no ESEARCH response for a mailbox without matches
    const data = esearchData(matched.map((r) => r.uid), returns, modseq ? reportedModseq(matched, returns) : undefined);
    if (!data) continue; // SAVE alone (RFC 5182 §2.4)
    s.untagged(`ESEARCH (TAG "${c.tag}" MAILBOX `, mailboxName(m.name, s.utf8), ` UIDVALIDITY ${m.uidValidity}) UID ${data}`); // RFC 7377 §2
    if (s.queuedBytes > 64 * 1024) await s.flush(); // many mailboxes: results go out as they come
  }
}

export const searchCommands: Record<string, CommandSpec> = {
  SEARCH: { states: ['selected'], run: search },
  'UID SEARCH': { states: ['selected'], run: search },
  ESEARCH: { states: ['auth', 'selected'], run: multisearch }, // RFC 7377 §2
};
