// Mailbox commands (RFC 9051 §6.3): CREATE (with RFC 6154 USE), DELETE, RENAME, SUBSCRIBE,
// UNSUBSCRIBE, LIST (RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154 SPECIAL-USE),
// LSUB (RFC 3501), NAMESPACE (RFC 2342), STATUS (with RFC 8438 SIZE, RFC 7162
// HIGHESTMODSEQ), and the quota commands (RFC 9208).
import { hierarchySeparator, specialUses, type SpecialUse } from '../store/index.ts';
import { bad, no } from './errors.ts';
import { mailboxName } from './encode.ts';
import { decodeMutf7 } from './mutf7.ts';
import type { Parser } from './parser.ts';
import type { CommandSpec, Session } from './session.ts';
import { listMetadataReturn, type MetadataReturn } from './metadata.ts';

/** A mailbox name from a command, without a trailing separator (RFC 9051 §6.3.4: "foo/" names "foo"). */
function nameArg(s: Session, p: Parser): string {
  return nameArgFrom(s, p.astring());
}

function nameArgFrom(s: Session, raw: Buffer): string {
  let name = s.mailboxName(raw);
  while (name.length > 1 && name.endsWith(hierarchySeparator)) name = name.slice(0, -1);
  if (name === '') throw bad('empty mailbox name');
  return name;
}

/** A name for a new mailbox: no LIST wildcards in it (RFC 9051 §6.3.4 leaves it to the server; they would make LIST patterns ambiguous). */
function newNameArg(s: Session, p: Parser): string {
  const raw = p.astring();
  if (!s.utf8 && !raw.some((c) => c >= 0x80)) decodeMutf7(raw.toString('latin1')); // RFC 3501 §5.1.3: a new name must be valid modified UTF-7 (BAD otherwise)
  const name = nameArgFrom(s, raw);
  if (/[*%]/.test(name)) throw no('CANNOT', 'mailbox names cannot contain "*" or "%"');
  return name;
}

// --- LIST pattern matching (RFC 9051 §6.3.9): "*" matches anything, "%" anything but the separator.

export function patternRegExp(pattern: string): RegExp {
  let re = '';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '%') re += '[^/]*';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  // INBOX is case-insensitive, also as the first level of a pattern (RFC 9051 §5.1).
  if (/^inbox(\/|$)/i.test(pattern)) re = 'INBOX' + re.slice(5);
  return new RegExp(`^${re}$`, 's');
}

/** RFC 9051 §6.3.9: reference and pattern combine; an absolute pattern stands alone. */
function combine(reference: string, pattern: string): string {
  if (pattern.startsWith(hierarchySeparator) || reference === '') return pattern;
  return reference.endsWith(hierarchySeparator) ? reference + pattern : reference + hierarchySeparator + pattern;
}

interface ListOptions {
  subscribedOnly: boolean; // selection SUBSCRIBED
  recursiveMatch: boolean; // RECURSIVEMATCH
  specialUseOnly: boolean; // selection SPECIAL-USE (RFC 6154 §3)
  returnSubscribed: boolean;
  returnChildren: boolean;
  returnSpecialUse: boolean;
  status: string[] | undefined; // RFC 5819
  metadata: MetadataReturn | undefined; // RFC 9590
  lsub: boolean;
}

const statusItems = ['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'DELETED', 'SIZE', 'RECENT', 'HIGHESTMODSEQ', 'APPENDLIMIT'];

function statusItemList(p: Parser): string[] {
  return p.list(() => {
    const item = p.atom('a status item').toUpperCase();
    if (!statusItems.includes(item)) throw bad(`unknown STATUS item ${item}`); // RFC 9051 §6.3.11
    return item;
  });
}

async function list(s: Session, p: Parser, lsub: boolean): Promise<void> {
  const o: ListOptions = { subscribedOnly: lsub, recursiveMatch: false, specialUseOnly: false, returnSubscribed: false, returnChildren: true, returnSpecialUse: true, status: undefined, metadata: undefined, lsub };
  p.sp();
  if (!lsub && p.peek() === 0x28) {
    // RFC 5258 §3 list-select-opts
    p.list(() => {
      const opt = p.atom('a selection option').toUpperCase();
      if (opt === 'SUBSCRIBED') o.subscribedOnly = true;
      else if (opt === 'RECURSIVEMATCH') o.recursiveMatch = true;
      else if (opt === 'SPECIAL-USE') o.specialUseOnly = true;
      else if (opt !== 'REMOTE') throw bad(`unknown LIST selection option ${opt}`); // RFC 5258 §3: unknown options are BAD
    }, true);
    if (o.recursiveMatch && !o.subscribedOnly && !o.specialUseOnly) throw bad('RECURSIVEMATCH needs another selection option'); // RFC 5258 §3
    p.sp();
  }
  const reference = s.mailboxName(p.astring()).replace(/^INBOX$/, 'INBOX');
  p.sp();
  const patterns: string[] = [];
  if (!lsub && p.peek() === 0x28) {
    patterns.push(...p.list(() => s.mailboxName(p.listMailbox())));
  } else patterns.push(s.mailboxName(p.listMailbox()));
  if (!lsub && p.take(' ')) {
    // RFC 5258 §3 list-return-opts
    p.expectKeyword('RETURN');
    p.sp();
    p.list(() => {
      const opt = p.atom('a return option').toUpperCase();
      if (opt === 'SUBSCRIBED') o.returnSubscribed = true;
      else if (opt === 'CHILDREN') o.returnChildren = true;
      else if (opt === 'SPECIAL-USE') o.returnSpecialUse = true;
      else if (opt === 'STATUS') {
        p.sp();
        o.status = statusItemList(p);
      } else if (opt === 'METADATA') {
        p.sp();
        o.metadata = listMetadataReturn(p);
      } else throw bad(`unknown LIST return option ${opt}`);
    }, true);
  }
  p.end();
  if (o.subscribedOnly) o.returnSubscribed = true; // RFC 5258 §3: SUBSCRIBED selection implies the return option
  // RFC 9051 §6.3.9: an empty pattern asks for the hierarchy delimiter and root.
  if (patterns.length === 1 && patterns[0] === '') {
    s.untagged(`${lsub ? 'LSUB' : 'LIST'} (\\Noselect) "/" ""`);
    return;
  }
  const store = s.account!.store;
  const mailboxes = await store.listMailboxes();
  const byName = new Map(mailboxes.map((m) => [m.name, m]));
  const subscriptions = new Set(await store.listSubscriptions());
  const matchers = patterns.map((pat) => patternRegExp(combine(reference, pat)));
  const matches = (name: string) => matchers.some((m) => m.test(name));
  const parents = new Set(mailboxes.flatMap((m) => m.name.split(hierarchySeparator).slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join(hierarchySeparator))));
  const hasChildren = (name: string) => parents.has(name); // one pass, not a scan per mailbox

  // The candidate names: existing mailboxes, and with SUBSCRIBED the subscriptions (which may not exist: \NonExistent).
  const names = new Set<string>();
  if (o.subscribedOnly) for (const n of subscriptions) names.add(n);
  else for (const m of mailboxes) names.add(m.name);
  const out: { name: string; attrs: string[]; childinfo: boolean }[] = [];
  for (const name of [...names].sort()) {
    const mb = byName.get(name);
    const attrs: string[] = [];
    if (!mb) attrs.push(lsub ? '\\Noselect' : '\\NonExistent'); // RFC 5258 §3.4
    if (mb && o.returnChildren) attrs.push(hasChildren(name) ? '\\HasChildren' : '\\HasNoChildren'); // RFC 5258 §4
    if (o.returnSubscribed && subscriptions.has(name) && !lsub) attrs.push('\\Subscribed');
    if (mb?.specialUse && o.returnSpecialUse) attrs.push(mb.specialUse);
    if (o.specialUseOnly && !mb?.specialUse) continue;
    if (matches(name)) out.push({ name, attrs, childinfo: false });
  }
  if (!o.subscribedOnly && !o.specialUseOnly) {
    // RFC 9051 §6.3.9: a level of hierarchy that matches while only its inferiors exist (e.g. after DELETE of a parent) is listed as \NonExistent (\Noselect for rev1 LSUB-style clients).
    const listed = new Set(out.map((e) => e.name));
    for (const m of mailboxes) {
      const parts = m.name.split(hierarchySeparator);
      for (let i = 1; i < parts.length; i++) {
        const parent = parts.slice(0, i).join(hierarchySeparator);
        if (listed.has(parent) || byName.has(parent) || !matches(parent)) continue;
        out.push({ name: parent, attrs: [s.rev2 ? '\\NonExistent' : '\\Noselect', '\\HasChildren'], childinfo: false });
        listed.add(parent);
      }
    }
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  if (o.subscribedOnly) {
    // RFC 5258 §3.5 / RFC 3501 §6.3.9: a parent that matches only through a subscribed child is listed (with CHILDINFO when RECURSIVEMATCH, \Noselect in LSUB).
    const listed = new Set(out.map((e) => e.name));
    for (const sub of subscriptions) {
      if (matches(sub)) continue; // RFC 5258 §3.5: CHILDINFO tells of subscribed children the patterns do not match themselves
      const parts = sub.split(hierarchySeparator);
      for (let i = parts.length - 1; i >= 1; i--) {
        const parent = parts.slice(0, i).join(hierarchySeparator);
        if (!matches(parent)) continue;
        if (listed.has(parent)) {
          if (o.recursiveMatch) out.find((e) => e.name === parent)!.childinfo = true;
          continue;
        }
        if (o.recursiveMatch) {
          const mb = byName.get(parent);
          const attrs = mb ? [hasChildren(parent) ? '\\HasChildren' : '\\HasNoChildren'] : ['\\NonExistent'];
          out.push({ name: parent, attrs, childinfo: true });
          listed.add(parent);
        } else if (lsub) {
          out.push({ name: parent, attrs: ['\\Noselect'], childinfo: false });
          listed.add(parent);
        }
        break;
      }
    }
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  for (const e of out) {
    const extra = e.childinfo ? ' ("CHILDINFO" ("SUBSCRIBED"))' : '';
    s.untagged(`${lsub ? 'LSUB' : 'LIST'} (${e.attrs.join(' ')}) "/" `, mailboxName(e.name, s.utf8), extra);
    const mb = byName.get(e.name);
    if (o.status && mb) await sendStatus(s, e.name, o.status).catch(() => {}); // RFC 5819 §2: a failing STATUS is left out
    if (o.metadata && mb) await o.metadata.send(s, e.name);
  }
}

/** The untagged STATUS response for one mailbox (RFC 9051 §7.3.4). */
export async function sendStatus(s: Session, name: string, items: readonly string[]): Promise<void> {
  const st = await s.account!.store.mailboxStatus(name);
  const values: string[] = [];
  for (const item of items) {
    switch (item) {
      case 'MESSAGES': values.push(`MESSAGES ${st.total}`); break;
      case 'UIDNEXT': values.push(`UIDNEXT ${st.uidNext}`); break;
      case 'UIDVALIDITY': values.push(`UIDVALIDITY ${st.uidValidity}`); break;
      case 'UNSEEN': values.push(`UNSEEN ${st.unseen}`); break;
      case 'DELETED': values.push(`DELETED ${st.deleted}`); break; // RFC 9051 §6.3.11
      case 'SIZE': values.push(`SIZE ${st.size}`); break; // RFC 8438
      case 'RECENT': values.push(`RECENT ${await recentCount(s, name, st.uidValidity)}`); break; // RFC 3501 §6.3.10
      case 'HIGHESTMODSEQ': values.push(`HIGHESTMODSEQ ${st.highestModseq}`); break; // RFC 7162 §3.1.6
      case 'APPENDLIMIT': values.push(`APPENDLIMIT ${s.ctx.limits.maxMessage}`); break; // RFC 7889 §5
    }
  }
  s.untagged('STATUS ', mailboxName(name, s.utf8), ` (${values.join(' ')})`);
}

/** \Recent messages: the session's own in its selected mailbox, elsewhere those no session has claimed yet. */
async function recentCount(s: Session, name: string, uidValidity: number): Promise<number> {
  if (s.view?.name === name) return s.view.recent.size;
  const claimed = s.ctx.recent.claimed(s.account!.name, name, uidValidity);
  return (await s.account!.store.messageMeta(name, { uids: [[claimed + 1, 0xffffffff]] })).length;
}

function specialUseArg(p: Parser): SpecialUse {
  const f = p.flag();
  const use = specialUses.find((u) => u.toLowerCase() === f.toLowerCase());
  if (!use) throw no('USEATTR', `unknown special-use attribute ${f}`); // RFC 6154 §5.3
  return use;
}

export const mailboxCommands: Record<string, CommandSpec> = {
  CREATE: {
    states: ['auth', 'selected'],
    async run(s, p) {
      p.sp();
      const name = newNameArg(s, p);
      let use: SpecialUse | undefined;
      if (p.take(' ')) {
        // RFC 4466 create-params; RFC 6154 §3 USE (attrs)
        p.list(() => {
          p.expectKeyword('USE');
          p.sp();
          const uses = p.list(() => specialUseArg(p), true);
          if (uses.length > 1) throw no('USEATTR', 'one special-use attribute per mailbox');
          use = uses[0];
        });
      }
      p.end();
      if (name === 'INBOX') throw no('ALREADYEXISTS', 'INBOX always exists'); // RFC 9051 §6.3.4
      await s.account!.store.createMailbox(name, use ? { specialUse: use } : {});
    },
  },
  DELETE: {
    states: ['auth', 'selected'],
    async run(s, p) {
      p.sp();
      const name = nameArg(s, p);
      p.end();
      const store = s.account!.store;
      if (s.view?.name === name) {
        s.view = undefined; // our own selected mailbox goes away: deselect first
        s.state = 'auth';
        s.untagged('OK [CLOSED] mailbox deleted');
      }
      await store.deleteMailbox(name);
    },
  },
  RENAME: {
    states: ['auth', 'selected'],
    async run(s, p) {
      p.sp();
      const from = nameArg(s, p);
      p.sp();
      const to = newNameArg(s, p);
      p.end();
      await s.account!.store.renameMailbox(from, to);
    },
  },
  SUBSCRIBE: {
    states: ['auth', 'selected'],
    async run(s, p) {
      p.sp();
      const name = nameArg(s, p);
      p.end();
      await s.account!.store.subscribe(name);
    },
  },
  UNSUBSCRIBE: {
    states: ['auth', 'selected'],
    async run(s, p) {
      p.sp();
      const name = nameArg(s, p);
      p.end();
      await s.account!.store.unsubscribe(name);
    },
  },
  LIST: { states: ['auth', 'selected'], run: (s, p) => list(s, p, false) },
  LSUB: { states: ['auth', 'selected'], run: (s, p) => list(s, p, true) },
  NAMESPACE: {
    states: ['auth', 'selected'],
    async run(s, p) {
      p.end();
      s.untagged('NAMESPACE (("" "/")) NIL NIL'); // RFC 2342 §5: one personal namespace, no shared ones
    },
  },
  STATUS: {
    states: ['auth', 'selected'],
    async run(s, p) {
      p.sp();
      const name = nameArg(s, p);
      p.sp();
      const items = statusItemList(p);
      p.end();
      await sendStatus(s, name, items);
    },
  },
  GETQUOTAROOT: {
    states: ['auth', 'selected'],
    async run(s, p) {
      p.sp();
      const name = nameArg(s, p);
      p.end();
      await s.account!.store.mailboxStatus(name); // NONEXISTENT for an unknown mailbox
      s.untagged('QUOTAROOT ', mailboxName(name, s.utf8), ' ""'); // RFC 9208 §4.3.2: one root for the account
      await sendQuota(s);
    },
  },
  GETQUOTA: {
    states: ['auth', 'selected'],
    async run(s, p) {
      p.sp();
      const root = p.astring().toString('utf8');
      p.end();
      if (root !== '') throw no('NONEXISTENT', 'no such quota root'); // RFC 9208 §4.2
      await sendQuota(s);
    },
  },
  SETQUOTA: {
    states: ['auth', 'selected'],
    async run(s, p) {
      p.sp();
      p.astring();
      p.sp();
      p.list(() => {
        p.atom();
        p.sp();
        p.number(Number.MAX_SAFE_INTEGER);
      }, true);
      p.end();
      throw no('NOPERM', 'quotas are set by the administrator'); // RFC 9208 §4.1, RFC 5530 §3
    },
  },
};

async function sendQuota(s: Session): Promise<void> {
  const q = await s.account!.store.quota();
  // RFC 9208 §5.1: STORAGE in units of 1024 octets.
  s.untagged('QUOTA "" (', q.limit === null ? '' : `STORAGE ${Math.ceil(q.used / 1024)} ${Math.floor(q.limit / 1024)}`, ')');
}

