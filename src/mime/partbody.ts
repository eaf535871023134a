// Decoding a part's body, given its bytes as sliced by the stored offsets: what IMAP
// BINARY[] (RFC 3516), SEARCH BODY/TEXT and the webmail need.
import { decodeCharset, decodeTransfer } from './decode.ts';
import type { MimePart } from './types.ts';

/** A Content-Type parameter of a part, or null. */
export function partParam(part: MimePart, name: string): string | null {
  return part.params.find((p) => p.name === name)?.value ?? null;
}

/** The body with its Content-Transfer-Encoding undone (RFC 2045 §6); bytes, not text. */
export function decodePartBody(body: Buffer, part: MimePart): Buffer {
  return decodeTransfer(body, part.encoding);
}

/** A text part's body as a string: transfer encoding, then its charset (RFC 2046 §4.1.2). */
export function decodePartText(body: Buffer, part: MimePart): string {
  return decodeCharset(decodePartBody(body, part), partParam(part, 'charset'));
}
