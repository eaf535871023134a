// A minimal DER writer (ITU-T X.690 §10) for the few structures we make ourselves:
// self-signed certificates (RFC 5280) and PKCS #12 files (RFC 7292). Writing only.

/** One encoded DER element. */
export type Der = Buffer;

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]); // X.690 §8.1.3.4: short form
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]); // X.690 §8.1.3.5: long form, minimal (§10.1)
}

/** Tag-length-value with a raw tag byte. */
export function tlv(tag: number, content: Buffer): Der {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

export const sequence = (...items: Der[]): Der => tlv(0x30, Buffer.concat(items));
/** X.690 §10.3: the elements of a SET OF are sorted by their encodings. */
export const set = (...items: Der[]): Der => tlv(0x31, Buffer.concat([...items].sort(Buffer.compare)));
export const octetString = (b: Buffer): Der => tlv(0x04, b);
export const nullValue = (): Der => tlv(0x05, Buffer.alloc(0));
export const utf8String = (s: string): Der => tlv(0x0c, Buffer.from(s, 'utf8'));
/** BMPString: UTF-16 big endian (X.680 §41). */
export const bmpString = (s: string): Der => tlv(0x1e, Buffer.from(s, 'utf16le').swap16());
/** BIT STRING with whole bytes, or with `unused` trailing bits of the last byte unused (X.690 §8.6.2). */
export const bitString = (b: Buffer, unused = 0): Der => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
/** [n] EXPLICIT: a constructed context-specific tag around one element. */
export const explicit = (n: number, item: Der): Der => tlv(0xa0 | n, item);
/** [n] IMPLICIT on a primitive type: the context-specific tag replaces the type's tag. */
export const implicitPrimitive = (n: number, content: Buffer): Der => tlv(0x80 | n, content);

/** INTEGER from a non-negative number or unsigned big-endian bytes: minimal two's complement (X.690 §8.3.2). */
export function integer(v: number | Buffer): Der {
  let b = typeof v === 'number' ? Buffer.from(v.toString(16).padStart(2 * Math.ceil(v.toString(16).length / 2), '0'), 'hex') : v;
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && (b[i + 1]! & 0x80) === 0) i++;
  b = b.subarray(i);
  if (b.length === 0) b = Buffer.from([0]);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

/** OBJECT IDENTIFIER from dotted form (X.690 §8.19). */
export function oid(dotted: string): Der {
  const arcs = dotted.split('.').map(Number);
  const first = arcs[0]! * 40 + arcs[1]!;
  const out: number[] = [];
  for (const arc of [first, ...arcs.slice(2)]) {
    const groups: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift(0x80 | (v & 0x7f));
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, Zulu. */
export function time(d: Date): Der {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '') + 'Z';
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii')) : tlv(0x18, Buffer.from(digits, 'ascii'));
}
