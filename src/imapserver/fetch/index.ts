// FETCH and UID FETCH (RFC 9051 §6.4.5, §7.5.2): message data from the stored MIME index
// and byte ranges of the message file; a section fetch reads only its bytes, and large
// literals stream to the client with backpressure. \Seen is set by non-PEEK body fetches;
// CONDSTORE/QRESYNC CHANGEDSINCE and VANISHED (RFC 7162) are honoured.
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { Account, MessageMeta, MessageRow, Uid } from '../../store/index.ts';
import { parseEnvelope, parseHeader, previewPart, previewText, decodeTransfer, type MimePart } from '../../mime/index.ts';
import { ImapError, bad } from '../errors.ts';
import { concat, flagList, str } from '../encode.ts';
import type { Parser } from '../parser.ts';
import type { CommandCall, CommandSpec, Session } from '../session.ts';
import { MailboxView, formatSet } from '../view.ts';
import { bodyStructure, envelope, isMessagePart, resolvePart, type ReadRange } from './structure.ts';
import { parseFetch, type FetchItem, type FetchRequest, type Partial, type Section } from './items.ts';

const batchSize = 500; // messages per store query: bounded memory for FETCH 1:*
const wholeFileLimit = 256 * 1024; // messages up to this size are read once per FETCH; larger ones by range
const streamLimit = 256 * 1024; // literals larger than this stream from the file

/** RFC 9051 §9 date-time: "dd-Mon-yyyy hh:mm:ss +0000". */
function dateTime(d: Date): string {
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()]!;
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `"${p2(d.getUTCDate())}-${mon}-${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000"`;
}

function needsIndex(items: readonly FetchItem[]): boolean {
  return items.some((i) => !['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'MODSEQ', 'SAVEDATE'].includes(i.kind));
}

function setsSeen(i: FetchItem): boolean {
  return (i.kind === 'section' || i.kind === 'binary') && !i.peek; // RFC 9051 §6.4.5
}

/** Access to one message's bytes for the duration of its FETCH response. */
class MessageBytes {
  readonly #store: Account;
  readonly #row: MessageRow;
  #whole: Buffer | undefined;

  constructor(store: Account, row: MessageRow) {
    this.#store = store;
    this.#row = row;
  }

  read: ReadRange = async (start, end) => {
    if (end <= start) return Buffer.alloc(0);
    if (this.#row.size <= wholeFileLimit) {
      this.#whole ??= await buffer(await this.#store.openMessage(this.#row.messageId));
      return this.#whole.subarray(start, end);
    }
    return buffer(await this.#store.openMessage(this.#row.messageId, { start, end: end - 1 }));
  };

  async stream(start: number, end: number): Promise<Readable> {
    if (end <= start) return Readable.from([]);
    return this.#store.openMessage(this.#row.messageId, { start, end: end - 1 });
  }
}

/** The byte range [start, end) a section names, or bytes built from the header (HEADER.FIELDS); null when the part does not exist. */
async function sectionBytes(root: MimePart, size: number, s: Section, bytes: MessageBytes): Promise<{ range: [number, number] } | { data: Buffer } | null> {
  const part = resolvePart(root, s.path);
  if (!part) return null;
  if (s.path.length === 0 && s.text === '') return { range: [0, size] };
  if (s.text === '') return { range: [part.bodyStart, part.end] }; // RFC 9051 §6.4.5: the part's body
  if (s.text === 'MIME') return { range: [part.headerStart, part.bodyStart] };
  // HEADER, TEXT and HEADER.FIELDS: of the message itself, or of the message a message/rfc822 part encapsulates.
  let msg: MimePart;
  if (s.path.length === 0) msg = root;
  else if (isMessagePart(part)) msg = part.children[0]!;
  else return null;
  if (s.text === 'TEXT') return { range: [msg.bodyStart, msg.end] };
  if (s.text === 'HEADER') return { range: [msg.headerStart, msg.bodyStart] };
  const header = await bytes.read(msg.headerStart, msg.bodyStart);
  const want = new Set(s.fields.map((f) => f.toLowerCase()));
  const not = s.text === 'HEADER.FIELDS.NOT';
  const out: Buffer[] = [];
  for (const f of parseHeader(header)) if (want.has(f.key) !== not) out.push(header.subarray(f.start, f.end));
  out.push(Buffer.from('\r\n')); // RFC 9051 §6.4.5: the blank line ending the header is included
  return { data: Buffer.concat(out) };
}

function applyPartial(len: number, p: Partial | undefined): [number, number] {
  if (!p) return [0, len];
  const start = Math.min(p.origin, len);
  return [start, Math.min(len, start + p.length)];
}

/** Writes one literal (or literal8) from bytes or a file range; large ones stream. */
async function literal(s: Session, bytes: MessageBytes, src: { range: [number, number] } | { data: Buffer }, p: Partial | undefined, binary: boolean): Promise<void> {
  if ('data' in src) {
    const [a, b] = applyPartial(src.data.length, p);
    const d = src.data.subarray(a, b);
    s.raw(concat([`${binary && d.includes(0) ? '~' : ''}{${d.length}}\r\n`, d])); // RFC 3516 §4.2: literal8 when the data has NUL
    return;
  }
  const [base, end] = src.range;
  const [a, b] = applyPartial(end - base, p);
  const len = b - a;
  if (len <= streamLimit) {
    const d = await bytes.read(base + a, base + b);
    s.raw(concat([`{${d.length}}\r\n`, d]));
    return;
  }
  s.raw(Buffer.from(`{${len}}\r\n`));
  await s.stream(await bytes.stream(base + a, base + b));
}

/** RFC 3516: the decoded body of a part; a content-transfer-encoding we cannot undo is NO [UNKNOWN-CTE]. */
async function binaryBody(root: MimePart, path: readonly number[], bytes: MessageBytes): Promise<Buffer | null> {
  const part = resolvePart(root, path);
  if (!part) return null;
  const raw = path.length === 0 ? await bytes.read(0, root.end) : await bytes.read(part.bodyStart, part.end);
  if (path.length === 0 || part.type === 'multipart' || isMessagePart(part)) return raw; // RFC 3516 §4.1: only leaf parts are decoded
  const enc = part.encoding?.toLowerCase() ?? '7bit';
  if (!['7bit', '8bit', 'binary', 'base64', 'quoted-printable'].includes(enc)) throw new ImapError('NO', 'UNKNOWN-CTE', `cannot decode content-transfer-encoding ${enc}`); // RFC 3516 §4.3
  return decodeTransfer(raw, enc);
}

async function previewOf(root: MimePart, bytes: MessageBytes): Promise<string> {
  const part = previewPart(root);
  if (!part) return '';
  const body = await bytes.read(part.bodyStart, Math.min(part.end, part.bodyStart + 64 * 1024));
  return previewText(body, { type: part.type, subtype: part.subtype, encoding: part.encoding, charset: part.params.find((x) => x.name === 'charset')?.value ?? null });
}

/** One message's FETCH response. */
async function respond(s: Session, store: Account, seq: number, row: MessageMeta | MessageRow, items: readonly FetchItem[], extra: { uid: boolean; flags: boolean; modseq: boolean }): Promise<void> {
  const full = 'mimeIndex' in row ? row : undefined;
  const bytes = full ? new MessageBytes(store, full) : undefined;
  const out: (Buffer | string)[] = [];
  const put = (...x: (Buffer | string)[]) => out.push(out.length ? ' ' : '', ...x);
  const utf8 = s.utf8;
  const seen = new Set<string>();
  const once = (k: string) => (seen.has(k) ? false : (seen.add(k), true));
  if (extra.uid && !s.uidOnly && once('UID')) put(`UID ${row.uid}`);
  // Items in request order; literals may stream, so everything before them is written first.
  s.raw(Buffer.from(`* ${s.fetchPrefix(seq, row.uid)}(`));
  const flush = () => {
    if (out.length === 0) return;
    s.raw(concat(out));
    out.length = 0;
    out.push(''); // later items need a separating space
  };
  for (const it of items) {
    switch (it.kind) {
      case 'UID':
        if (!s.uidOnly && once('UID')) put(`UID ${row.uid}`);
        break;
      case 'FLAGS':
        if (once('FLAGS')) put(`FLAGS ${flagList(s.flagsOf(row.uid, row.flags, row.keywords))}`);
        break;
      case 'INTERNALDATE':
        put(`INTERNALDATE ${dateTime(row.internalDate)}`);
        break;
      case 'RFC822.SIZE':
        put(`RFC822.SIZE ${row.size}`);
        break;
      case 'MODSEQ':
        if (once('MODSEQ')) put(`MODSEQ (${row.modseq})`); // RFC 7162 §3.1.4
        break;
      case 'SAVEDATE':
        put(`SAVEDATE ${dateTime(row.saveDate)}`); // RFC 8514 §4.3
        break;
      case 'ENVELOPE':
        put('ENVELOPE ', envelope(parseEnvelope(await bytes!.read(0, full!.mimeIndex.root.bodyStart)), utf8));
        break;
      case 'BODYSTRUCTURE':
      case 'BODY':
        put(`${it.kind} `, await bodyStructure(full!.mimeIndex.root, it.kind === 'BODYSTRUCTURE', utf8, bytes!.read));
        break;
      case 'PREVIEW':
        put('PREVIEW ', str(await previewOf(full!.mimeIndex.root, bytes!), utf8)); // RFC 8970 §4
        break;
      case 'section': {
        const src = await sectionBytes(full!.mimeIndex.root, row.size, it.section, bytes!);
        const label = `${it.label}${it.partial ? `<${it.partial.origin}>` : ''}`;
        if (!src) {
          put(`${label} NIL`); // a part that does not exist
          break;
        }
        put(`${label} `);
        flush();
        await literal(s, bytes!, src, it.partial, false);
        break;
      }
      case 'binary': {
        const body = await binaryBody(full!.mimeIndex.root, it.path, bytes!);
        const label = `BINARY[${it.path.join('.')}]${it.partial ? `<${it.partial.origin}>` : ''}`;
        if (!body) {
          put(`${label} NIL`);
          break;
        }
        put(`${label} `);
        flush();
        await literal(s, bytes!, { data: body }, it.partial, true);
        break;
      }
      case 'binary.size': {
        const body = await binaryBody(full!.mimeIndex.root, it.path, bytes!);
        put(`BINARY.SIZE[${it.path.join('.')}] ${body ? body.length : 'NIL'}`); // RFC 3516 §4.2
        break;
      }
    }
  }
  if (extra.flags && once('FLAGS')) put(`FLAGS ${flagList(s.flagsOf(row.uid, row.flags, row.keywords))}`);
  if (extra.modseq && once('MODSEQ')) put(`MODSEQ (${row.modseq})`);
  out.push(')\r\n');
  s.raw(concat(out));
  if (s.queuedBytes > streamLimit) await s.flush();
}

async function fetch(s: Session, p: Parser, c: CommandCall): Promise<void> {
  p.sp();
  const set = p.sequenceSet();
  p.sp();
  const req: FetchRequest = parseFetch(p);
  const v = s.view!;
  const store = s.account!.store;
  if (req.vanished && (!c.uid || !s.qresync)) throw bad('VANISHED needs UID FETCH and ENABLE QRESYNC'); // RFC 7162 §3.2.6
  if (req.changedSince !== undefined || req.items.some((i) => i.kind === 'MODSEQ')) s.enabled.add('CONDSTORE'); // RFC 7162 §3.1
  const uids = v.resolve(set, c.uid);
  if (req.vanished && set.kind === 'set') {
    // RFC 7162 §3.2.6: expunged UIDs in the requested ranges, also ones this session never saw.
    const max = Math.max(v.uidNext - 1, 1);
    const ranges = set.ranges.map(([a, b]) => [a === '*' ? max : a, b === '*' ? max : b].sort((x, y) => x - y) as [number, number]);
    const gone = await store.vanishedSince(v.name, req.changedSince!, ranges);
    if (gone.length > 0) s.untagged(`VANISHED (EARLIER) ${formatSet(gone)}`);
  }
  if (uids.length === 0) return;
  const index = needsIndex(req.items);
  const markSeen = !v.readOnly && req.items.some(setsSeen);
  const extra = { uid: c.uid, flags: false, modseq: s.condstore };
  for (let i = 0; i < uids.length; i += batchSize) {
    const chunk = MailboxView.toUidSet(uids.slice(i, i + batchSize));
    const query = { uids: chunk, ...(req.changedSince !== undefined ? { changedSince: req.changedSince } : {}) };
    const rows: (MessageMeta | MessageRow)[] = index ? await store.messages(v.name, query) : await store.messageMeta(v.name, query);
    const flagsChanged = new Set<Uid>();
    if (markSeen) {
      const unseen = rows.filter((r) => !r.flags.includes('\\Seen')).map((r) => r.uid);
      if (unseen.length > 0) {
        const res = await store.storeFlags(v.name, MailboxView.toUidSet(unseen), { mode: 'add', flags: ['\\Seen'] });
        const byUid = new Map(res.updated.map((u) => [u.uid, u]));
        for (const r of rows) {
          const u = byUid.get(r.uid);
          if (!u) continue;
          s.ownModseqs.add(u.modseq);
          r.flags = u.flags;
          r.modseq = u.modseq;
          flagsChanged.add(r.uid);
        }
      }
    }
    for (const r of rows) {
      const seq = v.seqOf(r.uid);
      if (seq === 0) continue; // not in this session's view (yet)
      await respond(s, store, seq, r, req.items, { ...extra, flags: flagsChanged.has(r.uid) }); // RFC 9051 §6.4.5: \Seen set implicitly is told with FLAGS
    }
  }
}

export const fetchCommands: Record<string, CommandSpec> = {
  FETCH: { states: ['selected'], run: fetch },
  'UID FETCH': { states: ['selected'], run: fetch },
};

