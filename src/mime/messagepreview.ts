// RFC 8970 preview of a whole message: picks the first displayable text part from the
// stored part tree and reads only its bytes (by offset) from the file or buffer.
import { open } from 'node:fs/promises';
import { previewText } from './preview.ts';
import type { MessageIndex, MimePart } from './types.ts';

const PREVIEW_READ = 64 * 1024; // body bytes read for a preview: far more than 256 characters need

/**
 * The part a preview is made from: depth first, skipping attachments and encapsulated
 * messages; in multipart/alternative the plain text is preferred (RFC 8970 §3 wants plain
 * text, and it needs no HTML stripping), else the last text alternative (RFC 2046 §5.1.4).
 */
export function previewPart(part: MimePart): MimePart | null {
  if (part.disposition?.type === 'attachment') return null;
  if (part.type === 'text') return part.subtype === 'plain' || part.subtype === 'html' ? part : null;
  if (part.type !== 'multipart') return null; // message/rfc822 is forwarded content, not this message's text
  if (part.subtype === 'alternative') {
    const found = part.children.map(previewPart).filter((p): p is MimePart => p !== null);
    return found.find((p) => p.subtype === 'plain') ?? found[found.length - 1] ?? null;
  }
  for (const c of part.children) {
    const p = previewPart(c);
    if (p) return p;
  }
  return null;
}

/** The RFC 8970 preview of a message, from its bytes or its file path and its stored index; '' when it has no text. */
export async function preview(source: Buffer | string, index: MessageIndex): Promise<string> {
  const part = previewPart(index.root);
  if (!part) return '';
  const len = Math.min(part.end - part.bodyStart, PREVIEW_READ);
  let body: Buffer;
  if (typeof source !== 'string') body = source.subarray(part.bodyStart, part.bodyStart + len);
  else {
    const fh = await open(source, 'r');
    try {
      body = Buffer.alloc(len);
      const { bytesRead } = await fh.read(body, 0, len, part.bodyStart);
      body = body.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }
  const charset = part.params.find((p) => p.name === 'charset')?.value ?? null;
  return previewText(body, { type: part.type, subtype: part.subtype, encoding: part.encoding, charset });
}
