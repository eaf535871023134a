// METADATA (RFC 5464): GETMETADATA and SETMETADATA for server ("") and mailbox entries,
// and LIST-METADATA (RFC 9590) entries returned with LIST.
import { bad, no, ImapError } from './errors.ts';
import { mailboxName, str } from './encode.ts';
import { literalBytes, type Parser } from './parser.ts';
import type { CommandSpec, Session } from './session.ts';
import { isStoreError, metadataLimits } from '../store/index.ts';

/** RFC 5464 §3.2 entry names: "/" separated, starting /private or /shared, no wildcards or controls. */
function entryName(p: Parser): string {
  const b = p.astring();
  const name = b.toString('utf8');
  if (!/^\/(private|shared)(\/[^/*%\x00-\x1f\x7f]+)*$/i.test(name)) throw bad(`invalid metadata entry name ${JSON.stringify(name.slice(0, 60))}`); // RFC 5464 §3.2
  return name.toLowerCase();
}

function entryList(p: Parser): string[] {
  if (p.peek() === 0x28) return p.list(() => entryName(p));
  return [entryName(p)];
}

interface GetOptions {
  maxSize: number | undefined; // RFC 5464 §4.2.1
  depth: '0' | '1' | 'infinity'; // RFC 5464 §4.2.2
}

function getOptions(p: Parser): GetOptions {
  const o: GetOptions = { maxSize: undefined, depth: '0' };
  p.list(() => {
    if (p.takeKeyword('MAXSIZE')) {
      p.sp();
      o.maxSize = p.number();
    } else if (p.takeKeyword('DEPTH')) {
      p.sp();
      const d = p.atom('a depth').toLowerCase();
      if (d !== '0' && d !== '1' && d !== 'infinity') throw bad('DEPTH must be 0, 1 or infinity');
      o.depth = d;
    } else p.fail('MAXSIZE or DEPTH');
  });
  return o;
}

/** The entries asked for, with DEPTH applied (RFC 5464 §4.2.2). Returns the longest value skipped by MAXSIZE. */
async function lookup(s: Session, mailbox: string | null, names: readonly string[], o: GetOptions): Promise<{ entries: { name: string; value: Buffer }[]; longer: number }> {
  const all = await s.account!.store.getMetadata(mailbox);
  const entries: { name: string; value: Buffer }[] = [];
  let longer = 0;
  for (const e of all) {
    const wanted = names.some((n) => {
      if (e.name === n) return true;
      if (!e.name.startsWith(n + '/')) return false;
      if (o.depth === 'infinity') return true;
      return o.depth === '1' && !e.name.slice(n.length + 1).includes('/');
    });
    if (!wanted) continue;
    if (o.maxSize !== undefined && e.value.length > o.maxSize) {
      longer = Math.max(longer, e.value.length);
      continue;
    }
    entries.push(e);
  }
  return { entries, longer };
}

function sendMetadata(s: Session, mailbox: string, entries: readonly { name: string; value: Buffer }[]): void {
  if (entries.length === 0) return;
  const parts: (Buffer | string)[] = ['METADATA ', mailbox === '' ? '""' : mailboxName(mailbox, s.utf8), ' ('];
  entries.forEach((e, i) => parts.push(i ? ' ' : '', str(e.name, s.utf8), ' ', str(e.value, s.utf8)));
  parts.push(')');
  s.untagged(...parts);
}

function mapError(e: unknown): never {
  if (isStoreError(e)) {
    const code: string = e.code;
    if (code === 'MAXSIZE') throw no(`METADATA MAXSIZE ${metadataLimits.maxSize}`, e.message); // RFC 5464 §4.3
    if (code === 'TOOMANY') throw no('METADATA TOOMANY', e.message);
    if (code === 'BADNAME') throw bad(e.message);
  }
  throw e;
}

/** RFC 9590: LIST ... RETURN (METADATA (options) (entries)). */
export interface MetadataReturn {
  send(s: Session, mailbox: string): Promise<void>;
}

/** RFC 9590: LIST ... RETURN (METADATA [options SP] entries), options and entries as in GETMETADATA. */
export function listMetadataReturn(p: Parser): MetadataReturn {
  let o: GetOptions = { maxSize: undefined, depth: '0' };
  if (/^\((MAXSIZE|DEPTH) /i.test(p.peekText(9))) {
    o = getOptions(p);
    p.sp();
  }
  const names = entryList(p);
  return {
    async send(s, mailbox) {
      const { entries } = await lookup(s, mailbox, names, o);
      sendMetadata(s, mailbox, entries);
    },
  };
}

export const metadataCommands: Record<string, CommandSpec> = {
  GETMETADATA: {
    states: ['auth', 'selected'],
    async run(s, p) {
      p.sp();
      let o: GetOptions = { maxSize: undefined, depth: '0' };
      if (p.peek() === 0x28) {
        o = getOptions(p);
        p.sp();
      }
      const raw = p.astring();
      const mailbox = raw.length === 0 ? '' : s.mailboxName(raw);
      p.sp();
      const names = entryList(p);
      p.end();
      const { entries, longer } = await lookup(s, mailbox === '' ? null : mailbox, names, o).catch(mapError);
      sendMetadata(s, mailbox, entries);
      if (longer > 0) return { code: `METADATA LONGENTRIES ${longer}`, text: 'GETMETADATA completed' }; // RFC 5464 §4.2.1
    },
  },
  SETMETADATA: {
    states: ['auth', 'selected'],
    async run(s, p) {
      p.sp();
      const raw = p.astring();
      const mailbox = raw.length === 0 ? '' : s.mailboxName(raw);
      p.sp();
      const entries = p.list(() => {
        const name = entryName(p);
        p.sp();
        if (p.takeKeyword('NIL')) return { name, value: null };
        const value = p.atLiteral() ? literalBytes(p.literal()) : p.string();
        return { name, value };
      });
      p.end();
      if (entries.some((e) => e.value !== null && e.value.length > metadataLimits.maxSize)) throw no(`METADATA MAXSIZE ${metadataLimits.maxSize}`, 'value too large'); // RFC 5464 §4.3
      try {
        await s.account!.store.setMetadata(mailbox === '' ? null : mailbox, entries);
      } catch (e) {
        if (e instanceof ImapError) throw e;
        mapError(e);
      }
    },
  },
};
