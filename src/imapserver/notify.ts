// IDLE (RFC 2177) and NOTIFY (RFC 5465): changes told as they happen. The selected
// mailbox's changes go through the session's view (EXISTS, EXPUNGE/VANISHED, FETCH); for
// other mailboxes NOTIFY sends STATUS (new, expunged, flag changes) and LIST (names,
// subscriptions) as the client's filters ask.
import { hierarchySeparator, type ChangeEvent } from '../store/index.ts';
import { bad, no } from './errors.ts';
import { mailboxName } from './encode.ts';
import type { Parser } from './parser.ts';
import type { CommandSpec, Session } from './session.ts';
import { sendStatus } from './mailboxes.ts';

type FilterKind = 'SELECTED' | 'SELECTED-DELAYED' | 'INBOXES' | 'PERSONAL' | 'SUBSCRIBED' | 'SUBTREE' | 'MAILBOXES';
const eventNames = ['MESSAGENEW', 'MESSAGEEXPUNGE', 'FLAGCHANGE', 'ANNOTATIONCHANGE', 'MAILBOXNAME', 'SUBSCRIPTIONCHANGE', 'MAILBOXMETADATACHANGE', 'SERVERMETADATACHANGE'];

interface Filter {
  kind: FilterKind;
  mailboxes: string[]; // SUBTREE, MAILBOXES
  events: Set<string>; // upper case; empty: NONE
}

export interface NotifySpec {
  /** Called for every change event while NOTIFY is set; tells what the client asked for about other mailboxes. */
  onEvent(s: Session, ev: ChangeEvent): void;
}

/** RFC 5465 §5.2-5.4: what STATUS tells of a mailbox that is not selected: counts for new and expunged messages, HIGHESTMODSEQ for flag changes (and with CONDSTORE). */
function statusItems(s: Session, wanted: ReadonlySet<string>): string[] {
  const counts = wanted.has('MESSAGENEW') || wanted.has('MESSAGEEXPUNGE');
  const flags = wanted.has('FLAGCHANGE');
  if (!counts && !flags) return [];
  return [...(counts ? ['MESSAGES', 'UIDNEXT'] : []), 'UIDVALIDITY', ...(counts ? ['UNSEEN'] : []), ...(flags || s.condstore ? ['HIGHESTMODSEQ'] : [])];
}

function matches(f: Filter, name: string, selected: string | undefined, subscribed: ReadonlySet<string>): boolean {
  switch (f.kind) {
    case 'SELECTED':
    case 'SELECTED-DELAYED':
      return name === selected;
    case 'INBOXES':
      return name === 'INBOX'; // RFC 5465 §6: mailboxes where mail is delivered; here INBOX (rules may deliver elsewhere, which the client cannot know)
    case 'PERSONAL':
      return true; // RFC 5465 §6: every mailbox of the personal namespace
    case 'SUBSCRIBED':
      return subscribed.has(name);
    case 'SUBTREE':
      return f.mailboxes.some((m) => name === m || name.startsWith(m + hierarchySeparator));
    case 'MAILBOXES':
      return f.mailboxes.includes(name);
  }
}

class Notify implements NotifySpec {
  readonly #filters: Filter[];
  readonly #subscribed: Set<string>;

  constructor(filters: Filter[], subscribed: Set<string>) {
    this.#filters = filters;
    this.#subscribed = subscribed;
  }

  /** The events the first matching filter asks for (RFC 5465 §3: the first match decides), or undefined. */
  events(s: Session, name: string): Set<string> | undefined {
    for (const f of this.#filters) if (matches(f, name, s.view?.name, this.#subscribed)) return f.events;
    return undefined;
  }

  onEvent(s: Session, ev: ChangeEvent): void {
    if (ev.type === 'metadata') return;
    const name = ev.mailbox;
    if (name === s.view?.name && ev.type !== 'mailboxRenamed' && ev.type !== 'mailboxDeleted') return; // the view tells these
    const wanted = this.events(s, name);
    if (!wanted || wanted.size === 0) return;
    if (ev.type === 'counts') {
      const items = statusItems(s, wanted);
      if (items.length === 0) return;
      const st = ev.status;
      const values = items.map((i) => `${i} ${i === 'MESSAGES' ? st.total : i === 'UIDNEXT' ? st.uidNext : i === 'UIDVALIDITY' ? st.uidValidity : i === 'UNSEEN' ? st.unseen : st.highestModseq}`);
      s.untagged('STATUS ', mailboxName(name, s.utf8), ` (${values.join(' ')})`);
      return;
    }
    if (!wanted.has('MAILBOXNAME')) return;
    // RFC 5465 §5.5: LIST for created, deleted (\NonExistent) and renamed (OLDNAME, RFC 5465 §5.5) mailboxes.
    if (ev.type === 'mailboxCreated') s.untagged('LIST () "/" ', mailboxName(name, s.utf8));
    else if (ev.type === 'mailboxDeleted') s.untagged('LIST (\\NonExistent) "/" ', mailboxName(name, s.utf8));
    else if (ev.type === 'mailboxRenamed') s.untagged('LIST () "/" ', mailboxName(name, s.utf8), ' ("OLDNAME" (', mailboxName(ev.from, s.utf8), '))');
  }

  /** RFC 5465 §3.1 STATUS option: the current status of every mailbox the filters name (not the selected one). */
  async initialStatus(s: Session): Promise<void> {
    for (const m of await s.account!.store.listMailboxes()) {
      if (m.name === s.view?.name) continue;
      const ev = this.events(s, m.name);
      const items = ev ? statusItems(s, ev) : [];
      if (items.length > 0) await sendStatus(s, m.name, items);
    }
  }
}

function filter(s: Session, p: Parser): Filter {
  p.expect('(');
  const kind = p.atom('a mailbox filter').toUpperCase() as FilterKind;
  const f: Filter = { kind, mailboxes: [], events: new Set() };
  if (kind === 'SUBTREE' || kind === 'MAILBOXES') {
    p.sp();
    if (p.peek() === 0x28) f.mailboxes = p.list(() => s.mailboxName(p.astring()));
    else f.mailboxes = [s.mailboxName(p.astring())];
  } else if (!['SELECTED', 'SELECTED-DELAYED', 'INBOXES', 'PERSONAL', 'SUBSCRIBED'].includes(kind)) throw bad(`unknown NOTIFY filter ${kind}`);
  p.sp();
  if (p.takeKeyword('NONE')) {
    p.expect(')');
    return f;
  }
  p.list(() => {
    const e = p.atom('an event').toUpperCase();
    if (!eventNames.includes(e)) throw no('BADEVENT', `unsupported event ${e}`); // RFC 5465 §5
    if (e === 'MESSAGENEW' && p.peekText(2) === ' (') {
      p.sp();
      p.list(() => p.atom('a fetch attribute')); // fetch attributes for new messages: the client FETCHes them itself
    }
    f.events.add(e);
  });
  p.expect(')');
  return f;
}

export const notifyCommands: Record<string, CommandSpec> = {
  IDLE: {
    states: ['auth', 'selected'],
    async run(s, p) {
      p.end();
      await s.continuation('idling'); // RFC 2177 §3
      s.idling = true;
      try {
        s.deliverPending(true);
        await s.flush();
        const line = await s.input.line(64);
        if (line === undefined) {
          s.closing = true;
          return;
        }
        if (!Buffer.isBuffer(line) || line.toString('latin1').toUpperCase() !== 'DONE') throw bad('expected DONE'); // RFC 2177 §3
      } finally {
        s.idling = false;
      }
      return { text: 'IDLE terminated' };
    },
  },
  NOTIFY: {
    states: ['auth', 'selected'],
    async run(s, p) {
      p.sp();
      if (p.takeKeyword('NONE')) {
        p.end();
        s.notify = undefined; // RFC 5465 §3.2
        return;
      }
      p.expectKeyword('SET');
      let status = false;
      p.sp();
      if (p.takeKeyword('STATUS')) {
        status = true;
        p.sp();
      }
      const filters: Filter[] = [filter(s, p)];
      while (p.take(' ')) filters.push(filter(s, p));
      p.end();
      const n = new Notify(filters, new Set(await s.account!.store.listSubscriptions()));
      s.notify = n;
      if (status) await n.initialStatus(s);
    },
  },
};
