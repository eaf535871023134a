// One message's FETCH response (RFC 9051 §7.5.2), built completely before any of it is
// written: text, small literals, and large literals as streams that are already open. A
// failure while building (a missing file, NO [UNKNOWN-CTE]) so leaves no half line behind.
import { decodeTransfer, parseEnvelope, previewPart, previewText, type Envelope, type MimePart } from '../../mime/index.ts';
import type { MessageMeta, MessageRow } from '../../store/index.ts';
import { ImapError } from '../errors.ts';
import { concat, flagList, str } from '../encode.ts';
import type { Session } from '../session.ts';
import { decodeStream, knownEncoding, measure, slice } from './binary.ts';
import { envelope } from './envelope.ts';
import type { FetchItem, Partial } from './items.ts';
import { MessageBytes } from './message.ts';
import { headerFields, isMessagePart, resolvePart, sectionSource } from './section.ts';
import { bodyStructure, encapsulatedMessages } from './structure.ts';

const streamLimit = 256 * 1024; // literals larger than this stream from the file instead of being read into memory
const binaryMemoryLimit = 1024 * 1024; // encoded parts up to this size are decoded in memory for BINARY
const previewRead = 64 * 1024; // body bytes a preview is made from (RFC 8970 §3: at most 256 characters)

/** A literal whose bytes stream after its `{n}` head; `size` is exact. */
export interface StreamedLiteral {
  head: Buffer;
  size: number;
  body: AsyncIterable<Buffer>;
}

export type Piece = Buffer | StreamedLiteral;

/** RFC 9051 §9 date-time: "dd-Mon-yyyy hh:mm:ss +0000" (INTERNALDATE, RFC 8514 SAVEDATE), in UTC. */
export function dateTime(d: Date): string {
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()]!;
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `"${p2(d.getUTCDate())}-${mon}-${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000"`;
}

/** RFC 9051 §9 CHAR8 excludes NUL: a BODY literal shows a NUL as 0x80, as Dovecot does (BINARY sends literal8 instead). */
function withoutNul(b: Buffer): Buffer {
  if (!b.includes(0)) return b;
  const c = Buffer.from(b);
  for (let i = c.indexOf(0); i >= 0; i = c.indexOf(0, i + 1)) c[i] = 0x80;
  return c;
}

async function* withoutNuls(src: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const c of src) yield withoutNul(c);
}

/** [start, end) of data of length `len` that a partial fetch asks for; an origin beyond the end gives an empty range (RFC 9051 §6.4.5). */
function window(len: number, p: Partial | undefined): [number, number] {
  if (!p) return [0, len];
  const start = Math.min(p.origin, len);
  return [start, Math.min(len, start + p.length)];
}

function literal(data: Buffer, binary: boolean): Buffer {
  if (binary && data.includes(0)) return concat([`~{${data.length}}\r\n`, data]); // RFC 3516 §4.3: literal8 for data with NUL
  return concat([`{${data.length}}\r\n`, binary ? data : withoutNul(data)]);
}

/** The decoding BINARY applies to a part: none for the whole message and for multiparts and encapsulated messages (their encoding is an identity one, RFC 2046 §5), else its Content-Transfer-Encoding. */
function binaryEncoding(part: MimePart, whole: boolean): string | null {
  // todo: RFC 3516 §4.2: BINARY of a non-leaf part sends its encoded subparts as they are; Dovecot decodes each and rewrites their Content-Transfer-Encoding.
  if (whole || part.type === 'multipart' || isMessagePart(part)) return null;
  if (!knownEncoding(part.encoding)) throw new ImapError('NO', 'UNKNOWN-CTE', `cannot decode content-transfer-encoding ${part.encoding}`); // RFC 3516 §4.3
  return part.encoding;
}

export interface Extra {
  uid: boolean; // UID though not asked: UID FETCH (RFC 9051 §6.4.9), or \Seen set with CONDSTORE (RFC 7162 §3.1)
  flags: boolean; // FLAGS though not asked: \Seen was set implicitly (RFC 9051 §6.4.5)
  modseq: boolean; // MODSEQ though not asked: CONDSTORE is on (RFC 7162 §3.1.4.1)
}

/**
 * Builds one message's response: `* seq FETCH (...)` (or `* uid UIDFETCH`, RFC 9586), items
 * in the order asked, after an implied UID and before implied FLAGS and MODSEQ. Streams of
 * large literals are open when this returns; `bytes.close()` releases what is not written.
 */
export async function buildResponse(s: Session, bytes: MessageBytes | undefined, seq: number, row: MessageMeta | MessageRow, items: readonly FetchItem[], extra: Extra): Promise<Piece[]> {
  const pieces: Piece[] = [];
  let text: (Buffer | string)[] = ['* ', s.fetchPrefix(seq, row.uid), '('];
  let first = true;
  const put = (...x: (Buffer | string)[]) => {
    text.push(first ? '' : ' ', ...x);
    first = false;
  };
  const stream = (lit: StreamedLiteral) => {
    pieces.push(concat(text));
    text = [];
    pieces.push(lit);
  };
  const utf8 = s.utf8;
  const full = 'mimeIndex' in row ? row : undefined;
  const index = () => full!.mimeIndex; // needsIndex() made the rows full ones when an item needs it
  const flags = () => {
    s.noteKeywords(row.keywords); // RFC 9051 §7.3.5: a keyword the client was not told of gets FLAGS first
    return `FLAGS ${flagList(s.flagsOf(row.uid, row.flags, row.keywords))}`;
  };
  const asked = new Set(items.map((i) => i.kind));
  if ((extra.uid && !s.uidOnly) || asked.has('UID')) put(`UID ${row.uid}`); // UIDONLY: the response's number is the UID (RFC 9586 §3.3)
  for (const it of items) {
    switch (it.kind) {
      case 'UID':
        break;
      case 'FLAGS':
        put(flags());
        break;
      case 'INTERNALDATE':
      case 'RFC822.SIZE':
      case 'MODSEQ':
      case 'SAVEDATE':
        put(metaItem(row, it.kind));
        break;
      case 'ENVELOPE':
        put('ENVELOPE ', envelope(parseEnvelope(await bytes!.header(index().root)), utf8));
        break;
      case 'BODYSTRUCTURE':
      case 'BODY': {
        const envelopes = new Map<MimePart, Envelope>();
        for (const m of encapsulatedMessages(index().root)) envelopes.set(m, parseEnvelope(await bytes!.header(m)));
        put(`${it.kind} `, bodyStructure(index().root, { extensible: it.kind === 'BODYSTRUCTURE', utf8, envelopes }));
        break;
      }
      case 'PREVIEW':
        put('PREVIEW ', str(await preview(index().root, bytes!), utf8)); // RFC 8970 §4
        break;
      case 'section': {
        const label = `${it.label}${it.partial ? `<${it.partial.origin}>` : ''}`; // RFC 9051 §7.5.2: the origin is echoed, the length not
        const src = sectionSource(index().root, row.size, it.section);
        if (!src) {
          put(`${label} NIL`); // a part that does not exist, or HEADER/TEXT of a part that is no message
          break;
        }
        if (src.kind === 'fields') {
          const data = headerFields(await bytes!.header(src.header), src.names, src.not);
          const [a, b] = window(data.length, it.partial);
          put(`${label} `, literal(data.subarray(a, b), false));
          break;
        }
        const [a, b] = window(src.end - src.start, it.partial);
        if (b - a <= streamLimit) {
          put(`${label} `, literal(await bytes!.read(src.start + a, src.start + b), false));
          break;
        }
        put(`${label} `);
        stream({ head: Buffer.from(`{${b - a}}\r\n`), size: b - a, body: withoutNuls(await bytes!.stream(src.start + a, src.start + b)) });
        break;
      }
      case 'binary': {
        const label = `BINARY[${it.path.join('.')}]${it.partial ? `<${it.partial.origin}>` : ''}`; // RFC 3516 §4.3 and RFC 9051 §7.5.2 prose echo the origin, as Dovecot does
        const part = resolvePart(index().root, it.path);
        if (!part) {
          put(`${label} NIL`);
          break;
        }
        const whole = it.path.length === 0;
        const enc = binaryEncoding(part, whole);
        const [start, end] = whole ? [0, row.size] : [part.bodyStart, part.end];
        if (end - start <= binaryMemoryLimit) {
          const data = decodeTransfer(await bytes!.read(start, end), enc);
          const [a, b] = window(data.length, it.partial);
          put(`${label} `, literal(data.subarray(a, b), true));
          break;
        }
        // A large part: decoded once to learn its size (and whether the part sent holds NUL), then again as it is sent.
        const open = async () => decodeStream(await bytes!.stream(start, end), enc);
        const all = await measure(await open());
        const [a, b] = window(all.size, it.partial);
        const nul = a === 0 && b === all.size ? all.nul : (await measure(await open(), a, b)).nul;
        put(`${label} `);
        stream({ head: Buffer.from(`${nul ? '~' : ''}{${b - a}}\r\n`), size: b - a, body: slice(await open(), a, b) });
        break;
      }
      case 'binary.size': {
        const part = resolvePart(index().root, it.path);
        let size = 0; // RFC 3516 §4.2 BINARY.SIZE is a number: a part that does not exist has 0 octets
        if (part) {
          const whole = it.path.length === 0;
          const enc = binaryEncoding(part, whole);
          const [start, end] = whole ? [0, row.size] : [part.bodyStart, part.end];
          if (!decodes(enc)) size = end - start;
          else if (end - start <= binaryMemoryLimit) size = decodeTransfer(await bytes!.read(start, end), enc).length;
          else size = (await measure(decodeStream(await bytes!.stream(start, end), enc))).size;
        }
        put(`BINARY.SIZE[${it.path.join('.')}] ${size}`);
        break;
      }
    }
  }
  if (extra.flags && !asked.has('FLAGS')) put(flags());
  if (extra.modseq && !asked.has('MODSEQ')) put(`MODSEQ (${row.modseq})`);
  text.push(')\r\n');
  pieces.push(concat(text));
  return pieces;
}

/** The items answered from the row alone. */
function metaItem(row: MessageMeta, kind: 'INTERNALDATE' | 'RFC822.SIZE' | 'MODSEQ' | 'SAVEDATE'): string {
  switch (kind) {
    case 'INTERNALDATE':
      return `INTERNALDATE ${dateTime(row.internalDate)}`;
    case 'RFC822.SIZE':
      return `RFC822.SIZE ${row.size}`;
    case 'MODSEQ':
      return `MODSEQ (${row.modseq})`; // RFC 7162 §3.1.4
    case 'SAVEDATE':
      return `SAVEDATE ${row.saveDate && !Number.isNaN(row.saveDate.getTime()) ? dateTime(row.saveDate) : 'NIL'}`; // RFC 8514 §4.3
  }
}

/**
 * One message's response when every item comes from the row (UID, FLAGS, MODSEQ, dates,
 * size): built synchronously, so FETCH 1:* (UID FLAGS) of a large mailbox is a string loop.
 * The same text buildResponse would give.
 */
export function metaResponse(s: Session, seq: number, row: MessageMeta, items: readonly FetchItem[], extra: { uid: boolean; flags: boolean; modseq: boolean }): string {
  const out: string[] = [];
  let asksFlags = false;
  let asksModseq = false;
  let asksUid = false;
  for (const it of items) {
    if (it.kind === 'FLAGS') asksFlags = true;
    else if (it.kind === 'MODSEQ') asksModseq = true;
    else if (it.kind === 'UID') asksUid = true;
  }
  const flags = () => {
    s.noteKeywords(row.keywords); // RFC 9051 §7.3.5
    return `FLAGS ${flagList(s.flagsOf(row.uid, row.flags, row.keywords))}`;
  };
  if ((extra.uid && !s.uidOnly) || asksUid) out.push(`UID ${row.uid}`);
  for (const it of items) {
    if (it.kind === 'FLAGS') out.push(flags());
    else if (it.kind === 'INTERNALDATE' || it.kind === 'RFC822.SIZE' || it.kind === 'MODSEQ' || it.kind === 'SAVEDATE') out.push(metaItem(row, it.kind));
  }
  if (extra.flags && !asksFlags) out.push(flags());
  if (extra.modseq && !asksModseq) out.push(`MODSEQ (${row.modseq})`);
  return `* ${s.fetchPrefix(seq, row.uid)}(${out.join(' ')})\r\n`;
}

/** Whether an encoding changes the bytes (7bit, 8bit and binary do not). */
function decodes(enc: string | null): boolean {
  const e = enc?.trim().toLowerCase();
  return e === 'base64' || e === 'quoted-printable';
}

/** RFC 8970 preview: from the part src/mime picks, reading only the start of its body. */
async function preview(root: MimePart, bytes: MessageBytes): Promise<string> {
  const part = previewPart(root);
  if (!part) return '';
  const body = await bytes.read(part.bodyStart, Math.min(part.end, part.bodyStart + previewRead));
  return previewText(body, { type: part.type, subtype: part.subtype, encoding: part.encoding, charset: part.params.find((x) => x.name === 'charset')?.value ?? null });
}
