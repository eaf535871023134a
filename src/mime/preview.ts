// Preview text (RFC 8970): a short plain-text excerpt of a text part for IMAP PREVIEW and
// the webmail list. Relies on decode.ts for transfer encoding and charset.
import { decodeCharset, decodeTransfer } from './decode.ts';

export const PREVIEW_MAX_CHARS = 256; // RFC 8970 §3: the preview MUST NOT exceed 256 characters
const MAX_INPUT = 256 * 1024; // a preview never needs more; bounds the work on huge parts

/** The content description of the part a preview is made from. */
export interface PreviewSource {
  type: string; // media type, e.g. "text"
  subtype: string; // e.g. "plain", "html"
  encoding: string | null; // Content-Transfer-Encoding
  charset: string | null; // Content-Type charset parameter
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', copy: '©', reg: '®', trade: '™',
  hellip: '…', mdash: '—', ndash: '–', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', laquo: '«',
  raquo: '»', bull: '•', middot: '·', euro: '€', pound: '£', yen: '¥', cent: '¢', deg: '°',
  zwnj: '', zwj: '', shy: '',
};

function decodeEntity(whole: string, body: string): string {
  if (body.startsWith('#')) {
    const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    // HTML: NUL, surrogates and out-of-range code points are not characters
    if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
    return String.fromCodePoint(code);
  }
  return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
}

/** HTML to text: invisible elements dropped, block ends become line breaks, tags removed, entities decoded. */
export function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?(?:-->|$)/g, '')
    .replace(/<(head|style|script|title)\b[\s\S]*?(?:<\/\1\s*>|$)/gi, '')
    .replace(/<(?:br|\/p|\/div|\/tr|\/li|\/h[1-6]|\/blockquote|p|div|tr|li)\b[^>]*>/gi, '\n')
    .replace(/<\/?[a-zA-Z!?][^>]*(?:>|$)/g, '')
    .replace(/&(#[0-9]{1,10}|#[xX][0-9a-fA-F]{1,8}|[a-zA-Z]{2,8});?/g, (whole, body: string) => decodeEntity(whole, body));
}

/**
 * The preview of a text part's body bytes: transfer encoding and charset undone, HTML
 * reduced to text, quoted reply lines (`>`) skipped, whitespace collapsed, cut at 256
 * characters (code points, never inside a surrogate pair). Non-text parts give ''.
 */
export function previewText(body: Buffer, source: PreviewSource): string {
  const type = source.type.toLowerCase();
  const subtype = source.subtype.toLowerCase();
  if (type !== 'text') return '';
  const bytes = decodeTransfer(body.subarray(0, MAX_INPUT), source.encoding);
  let text = decodeCharset(bytes, source.charset);
  if (subtype === 'html') text = htmlToText(text);
  const lines = text.split(/\r?\n|\r/).filter((l) => !/^\s*>/.test(l)); // quoted reply: not news to the reader
  const collapsed = lines.join(' ').replace(/[\s\u00a0\u200b]+/gu, ' ').trim();
  const chars = Array.from(collapsed);
  return chars.length <= PREVIEW_MAX_CHARS ? collapsed : chars.slice(0, PREVIEW_MAX_CHARS).join('').trimEnd();
}
