// mboxrd (RFC 4155 Appendix A, with ">From " quoting made reversible): writing one
// message as an mbox record, and reading records back. Lines end in LF in the file, as
// mutt and Dovecot write and expect; the store keeps CRLF (RFC 5322 §2.1), so CRLF
// becomes LF on export and LF becomes CRLF on import. A bare LF in a stored message
// therefore comes back as CRLF, and a message without a final line break gains one.
//
// Flags and keywords travel in Status, X-Status and X-Keywords header fields, placed
// at the end of the header section as mutt and Dovecot place them; on import they are
// read and removed (as Dovecot does), so the message bytes round-trip unchanged. A
// message that had such fields of its own loses them on import.
// todo: Thunderbird keeps flags in X-Mozilla-Status and keywords in X-Mozilla-Keys; read them too.
import type { SystemFlag } from '../store/index.ts';
import { EntryError } from './archive.ts';
import { xStatusLetters } from './flags.ts';
import { isKeyword } from '../store/index.ts';
import { LineSplitter, type LinePiece } from './lines.ts';

const weekdays = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const fromPrefix = Buffer.from('From ');
const gt = Buffer.from('>');
const lf = Buffer.from('\n');
const crlf = Buffer.from('\r\n');

/** The From_ line (RFC 4155 Appendix A): no envelope sender is stored, so MAILER-DAEMON as qmail's mbox(5) writes for none; the date in UTC asctime. */
export function fromLine(internalDate: Date): Buffer {
  const d = internalDate;
  const two = (n: number) => String(n).padStart(2, '0');
  const asctime = `${weekdays[d.getUTCDay()]} ${months[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
  return Buffer.from(`From MAILER-DAEMON ${asctime}\n`);
}

/** The date of a From_ line: asctime, optionally with a zone before or after the year (mbox(5)); without a numeric zone it is UTC (RFC 4155 Appendix A). */
export function parseFromLineDate(line: string): Date | undefined {
  const m = /(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),?\s+(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(?:([+-]\d{4}|[A-Z]{1,5}(?:\s+DST)?)\s+)?(\d{4}|\d{2})(?:\s+([+-]\d{4}))?/.exec(line);
  if (!m) return undefined;
  let year = Number(m[7]);
  if (m[7]!.length === 2) year += year >= 70 ? 1900 : 2000; // mbox(5): two-digit years
  const zone = [m[6], m[8]].find((z) => z !== undefined && /^[+-]\d{4}$/.test(z));
  const offset = zone ? (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) : 0;
  const t = Date.UTC(year, months.indexOf(m[1]!), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5] ?? 0)) - offset * 60_000;
  return Number.isFinite(t) ? new Date(t) : undefined;
}

/** The status header lines for a message's flags and keywords (LF-terminated). */
function statusFields(flags: readonly SystemFlag[], keywords: readonly string[]): Buffer {
  let s = `Status: ${flags.includes('\\Seen') ? 'R' : ''}O\n`; // O: not new (mutt)
  const x = xStatusLetters.filter(([, f]) => flags.includes(f)).map(([l]) => l).join('');
  if (x) s += `X-Status: ${x}\n`;
  if (keywords.length > 0) {
    // RFC 5322 §2.1.1: folded so that lines stay short.
    let line = 'X-Keywords:';
    for (const k of keywords) {
      if (line.length + 1 + k.length > 78 && line !== 'X-Keywords:') {
        s += line + '\n';
        line = '';
      }
      line += ' ' + k;
    }
    s += line + '\n';
  }
  return Buffer.from(s);
}

/** Turns one stored message into an mbox record: From_ line, status fields, quoted body, blank line. */
export class MboxRecordWriter {
  readonly #lines = new LineSplitter();
  readonly #status: Buffer;
  #inHeader = true;
  #endsWithLF = true; // nothing written yet counts as "at a line start"
  #first = true;
  readonly #internalDate: Date;

  constructor(attrs: { flags: readonly SystemFlag[]; keywords: readonly string[]; internalDate: Date }) {
    this.#status = statusFields(attrs.flags, attrs.keywords);
    this.#internalDate = attrs.internalDate;
  }

  push(chunk: Buffer): Buffer[] {
    return this.#convert(this.#lines.push(chunk));
  }

  end(): Buffer[] {
    const out = this.#convert(this.#lines.end());
    if (!this.#endsWithLF) out.push(lf);
    if (this.#inHeader) out.push(this.#status); // no empty line ended the header section
    out.push(lf); // RFC 4155 Appendix A: an empty line ends the record
    return out;
  }

  #convert(pieces: LinePiece[]): Buffer[] {
    const out: Buffer[] = [];
    if (this.#first) {
      out.push(fromLine(this.#internalDate));
      this.#first = false;
    }
    for (const p of pieces) {
      const data = p.data;
      if (p.start && this.#inHeader && isEmptyLine(data)) {
        out.push(this.#status); // at the end of the header section, where mutt and Dovecot put them
        this.#inHeader = false;
      }
      if (p.start && fromQuoteDepth(data) >= 0) out.push(gt); // mboxrd: ">From " gets one more ">" too, so reading can remove exactly one
      if (p.end && data.length >= 2 && data[data.length - 1] === 10 && data[data.length - 2] === 13) {
        out.push(data.subarray(0, data.length - 2), lf); // CRLF -> LF: mbox files use the local convention
      } else out.push(data);
      if (data.length > 0) this.#endsWithLF = data[data.length - 1] === 10;
    }
    return out;
  }
}

/** The number of ">" before "From " at the start of a line, or -1 when the line is not a (quoted) From_ line. */
function fromQuoteDepth(line: Buffer): number {
  let i = 0;
  while (i < line.length && line[i] === 62) i++; // '>'
  return line.length - i >= 5 && line.subarray(i, i + 5).equals(fromPrefix) ? i : -1;
}

function isEmptyLine(data: Buffer): boolean {
  return (data.length === 1 && data[0] === 10) || (data.length === 2 && data[0] === 13 && data[1] === 10);
}

/** What reading an mbox file produces, in order: begin, data..., end; per record. */
export type MboxEvent =
  | { kind: 'begin'; date: Date | undefined } // date of the From_ line
  | { kind: 'data'; data: Buffer } // message bytes, CRLF line ends, unquoted
  | { kind: 'end'; flags: SystemFlag[]; keywords: string[] };

const statusFieldName = /^(status|x-status|x-keywords)[ \t]*:/i;

/** Reads an mbox file into records. Separators are "From " lines with a parseable date (as mutt checks), so an unquoted "From " in a body of an mboxo file stays body text. */
export class MboxReader {
  readonly #lines = new LineSplitter();
  #inRecord = false;
  #inHeader = true;
  #pendingBlank = 0; // empty lines not yet passed on: the last one before a separator belongs to the separator
  #capture: string | null = null; // the status field being read (and removed)
  #captured: string[] = [];
  #skipRest = false; // the rest of the current (long) line is dropped: it belongs to the From_ line or a removed status field

  push(chunk: Buffer): MboxEvent[] {
    return this.#read(this.#lines.push(chunk));
  }

  end(): MboxEvent[] {
    const out = this.#read(this.#lines.end());
    if (this.#inRecord) this.#finish(out);
    return out;
  }

  #read(pieces: LinePiece[]): MboxEvent[] {
    const out: MboxEvent[] = [];
    for (const p of pieces) {
      if (p.start && p.data.subarray(0, 5).equals(fromPrefix)) {
        const head = p.data.subarray(0, 1024).toString('latin1');
        const date = parseFromLineDate(head);
        if (!this.#inRecord || date !== undefined) {
          if (this.#inRecord) this.#finish(out);
          out.push({ kind: 'begin', date });
          this.#inRecord = true;
          this.#inHeader = true;
          this.#pendingBlank = 0;
          this.#captured = [];
          this.#capture = null;
          this.#skipRest = !p.end; // the rest of a (very long) From_ line is dropped too
          continue;
        }
      }
      if (!this.#inRecord) throw new EntryError('not an mbox file: does not start with a "From " line'); // RFC 4155 Appendix A
      if (!p.start) {
        if (this.#skipRest) {
          if (p.end) this.#skipRest = false;
          continue;
        }
        this.#emit(out, p);
        continue;
      }
      this.#skipRest = false;
      if (isEmptyLine(p.data)) {
        if (this.#inHeader) this.#endHeader();
        this.#pendingBlank++;
        continue;
      }
      if (this.#inHeader) {
        const text = p.data.subarray(0, 1024).toString('latin1');
        const folded = text[0] === ' ' || text[0] === '\t'; // RFC 5322 §2.2.3
        if (folded && this.#capture !== null) {
          this.#capture += text.replace(/\r?\n$/, '');
          this.#skipRest = !p.end;
          continue;
        }
        this.#endCapture();
        if (statusFieldName.test(text)) {
          this.#capture = text.replace(/\r?\n$/, '');
          this.#skipRest = !p.end;
          continue;
        }
      }
      const data = fromQuoteDepth(p.data) > 0 ? p.data.subarray(1) : p.data; // mboxrd: remove the one ">" the writer added
      this.#emit(out, { ...p, data });
    }
    return out;
  }

  #emit(out: MboxEvent[], p: LinePiece): void {
    for (; this.#pendingBlank > 0; this.#pendingBlank--) out.push({ kind: 'data', data: crlf });
    const d = p.data;
    if (p.end && d.length > 0 && d[d.length - 1] === 10 && (d.length < 2 || d[d.length - 2] !== 13)) {
      out.push({ kind: 'data', data: d.subarray(0, d.length - 1) }, { kind: 'data', data: crlf }); // LF -> CRLF for the store (RFC 5322 §2.1)
    } else if (p.end && d.length > 0 && d[d.length - 1] !== 10) {
      out.push({ kind: 'data', data: d }, { kind: 'data', data: crlf }); // the file's last line had no LF
    } else out.push({ kind: 'data', data: d });
  }

  #endCapture(): void {
    if (this.#capture !== null) this.#captured.push(this.#capture);
    this.#capture = null;
  }

  #endHeader(): void {
    this.#endCapture();
    this.#inHeader = false;
  }

  #finish(out: MboxEvent[]): void {
    this.#endCapture();
    this.#pendingBlank = Math.max(0, this.#pendingBlank - 1); // the separator's empty line (RFC 4155 Appendix A)
    for (; this.#pendingBlank > 0; this.#pendingBlank--) out.push({ kind: 'data', data: crlf });
    const flags = new Set<SystemFlag>();
    const keywords: string[] = [];
    for (const field of this.#captured) {
      const colon = field.indexOf(':');
      const name = field.slice(0, colon).trim().toLowerCase();
      const value = field.slice(colon + 1).trim();
      if (name === 'status' && value.includes('R')) flags.add('\\Seen');
      if (name === 'x-status') for (const [l, f] of xStatusLetters) if (value.includes(l)) flags.add(f);
      if (name === 'x-keywords') for (const k of value.split(/[\s,]+/)) if (isKeyword(k) && !keywords.includes(k)) keywords.push(k);
    }
    out.push({ kind: 'end', flags: [...flags], keywords });
    this.#inRecord = false;
  }
}
