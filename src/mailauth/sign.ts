// DKIM signing (RFC 6376 §5) of our own, streaming: mailauth's signer cannot oversign
// (it lists only fields present in the message), and a signer that can is what stops
// a forwarder from adding a second From or Subject under our signature (RFC 6376 §8.15).
// RSA-SHA256 and Ed25519-SHA256 (RFC 8463 §3); simple and relaxed canonicalization.
import { createHash, createPrivateKey, sign, type Hash, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { headerEnd, parseHeader, type HeaderField } from '../mime/index.ts';

const CRLF = Buffer.from('\r\n');
const maxHeader = 1024 * 1024;

/** Body canonicalization and hash (RFC 6376 §3.4.3, §3.4.4), fed in chunks. */
class BodyHash {
  readonly #relaxed: boolean;
  readonly #hash: Hash = createHash('sha256');
  #partial: Buffer = Buffer.alloc(0);
  #emptyLines = 0; // held back: trailing empty lines are dropped
  #any = false;

  constructor(relaxed: boolean) {
    this.#relaxed = relaxed;
  }

  update(chunk: Buffer): void {
    let data = this.#partial.length ? Buffer.concat([this.#partial, chunk]) : chunk;
    let pos = 0;
    for (let lf = data.indexOf(10, pos); lf >= 0; lf = data.indexOf(10, pos)) {
      this.#line(data.subarray(pos, lf > pos && data[lf - 1] === 13 ? lf - 1 : lf));
      pos = lf + 1;
    }
    data = data.subarray(pos);
    this.#partial = Buffer.from(data); // a copy: the chunk's memory is not kept
  }

  #line(content: Buffer): void {
    const c = this.#relaxed ? relaxLine(content) : content;
    if (c.length === 0) {
      this.#emptyLines++;
      return;
    }
    for (; this.#emptyLines > 0; this.#emptyLines--) this.#hash.update(CRLF);
    this.#hash.update(c);
    this.#hash.update(CRLF);
    this.#any = true;
  }

  digest(): string {
    if (this.#partial.length) this.#line(this.#partial); // a last line without CRLF gets one (§3.4.3, §3.4.4)
    if (!this.#any && !this.#relaxed) this.#hash.update(CRLF); // §3.4.3: an empty body is one CRLF in simple, nothing in relaxed
    return this.#hash.digest('base64');
  }
}

/** RFC 6376 §3.4.4: runs of WSP become one SP, WSP at the line end goes. */
function relaxLine(b: Buffer): Buffer {
  if (b.indexOf(9) < 0 && b.indexOf('  ') < 0 && b[b.length - 1] !== 32) return b;
  return Buffer.from(b.toString('latin1').replace(/[ \t]+/g, ' ').replace(/ $/, ''), 'latin1');
}

/** RFC 6376 §3.4.2 relaxed header canonicalization (simple keeps the bytes). */
function canonHeader(f: { name: string; raw: Buffer; value: Buffer }, relaxed: boolean): Buffer {
  if (!relaxed) return f.raw;
  const value = f.value.toString('latin1').replace(/\r?\n/g, '').replace(/[ \t]+/g, ' ').trim();
  return Buffer.from(`${f.name.toLowerCase()}:${value}\r\n`, 'latin1');
}

export interface SignOptions {
  domain: string; // d= (A-label)
  selector: string; // s=
  privateKeyPEM: string;
  canonicalization: string; // header/body, e.g. relaxed/relaxed
  headers: readonly string[]; // field names to sign
  oversign: boolean; // list each name once more than it occurs (RFC 6376 §8.15)
  expirationSeconds?: number; // x=
}

/** The message as header fields and a body streamed into the hashers. */
async function readMessage(message: string | Buffer, bodies: BodyHash[]): Promise<{ header: Buffer; fields: HeaderField[] }> {
  const chunks: Iterable<Buffer> | AsyncIterable<Buffer> = typeof message === 'string' ? createReadStream(message) : [message];
  let head: Buffer = Buffer.alloc(0);
  let inHeader = true;
  for await (const c of chunks) {
    if (!inHeader) {
      for (const b of bodies) b.update(c);
      continue;
    }
    head = Buffer.concat([head, c]);
    const end = headerEnd(head);
    if (end < 0) {
      if (head.length > maxHeader) throw new Error('header larger than 1 MiB');
      continue;
    }
    inHeader = false;
    const rest = head.subarray(end);
    head = head.subarray(0, end);
    for (const b of bodies) b.update(rest);
  }
  return { header: head, fields: parseHeader(head) };
}

/** DKIM-Signature fields (CRLF-terminated), one per signer, for a file path or bytes. */
export async function signMessage(message: string | Buffer, signers: readonly SignOptions[], now = new Date()): Promise<string> {
  if (signers.length === 0) return '';
  const bodyFor = (o: SignOptions) => (o.canonicalization.split('/')[1] ?? 'simple') === 'relaxed';
  const hashers = { relaxed: new BodyHash(true), simple: new BodyHash(false) };
  const { header, fields } = await readMessage(message, [hashers.relaxed, hashers.simple]);
  const bh = { relaxed: hashers.relaxed.digest(), simple: hashers.simple.digest() };
  if (!fields.some((f) => f.key === 'from')) throw new Error('message has no From field'); // RFC 6376 §5.4: From must be signed
  let out = '';
  for (const o of signers) {
    const key: KeyObject = createPrivateKey(o.privateKeyPEM);
    const ed = key.asymmetricKeyType === 'ed25519';
    const relaxedHeader = (o.canonicalization.split('/')[0] ?? 'simple') === 'relaxed';
    const names: string[] = [];
    const seen = new Set<string>();
    for (const n of ['From', ...o.headers]) {
      const k = n.toLowerCase();
      if (seen.has(k)) continue;
      seen.add(k);
      const count = fields.filter((f) => f.key === k).length;
      for (let i = 0; i < count + (o.oversign ? 1 : 0); i++) names.push(n); // RFC 6376 §5.4.2: one per instance, bottom up; one more signs "no further instance"
    }
    const used = new Map<string, number>();
    const signed: Buffer[] = [];
    for (const n of names) {
      const k = n.toLowerCase();
      const instances = fields.filter((f) => f.key === k);
      const u = used.get(k) ?? 0;
      used.set(k, u + 1);
      const f = instances[instances.length - 1 - u];
      if (f) signed.push(canonHeader({ name: f.name, raw: header.subarray(f.start, f.end), value: f.value }, relaxedHeader));
    }
    const t = Math.floor(now.getTime() / 1000);
    const x = o.expirationSeconds ? ` x=${t + o.expirationSeconds};` : '';
    const value = ` v=1; a=${ed ? 'ed25519' : 'rsa'}-sha256; c=${o.canonicalization}; d=${o.domain}; s=${o.selector}; t=${t};${x}\r\n\th=${fold(names.join(':'), ':')};\r\n\tbh=${bodyFor(o) ? bh.relaxed : bh.simple};\r\n\tb=`;
    const unsigned = canonHeader({ name: 'DKIM-Signature', raw: Buffer.from(`DKIM-Signature:${value}`), value: Buffer.from(value) }, relaxedHeader);
    const data = Buffer.concat([...signed, unsigned.subarray(0, unsigned.length - (relaxedHeader ? 2 : 0))]); // §3.7: the signature field itself, without its final CRLF
    const sig = ed ? sign(null, createHash('sha256').update(data).digest(), key) : sign('sha256', data, key); // RFC 8463 §3: Ed25519 signs the SHA-256 hash
    out += `DKIM-Signature:${value}${fold(sig.toString('base64'), '')}\r\n`;
  }
  return out;
}

/** Folds a long tag value into lines of at most 70 characters (after a separator when given). */
function fold(s: string, sep: string): string {
  const lines: string[] = [];
  let cur = '';
  const parts = sep ? s.split(sep).map((p, i, a) => (i < a.length - 1 ? p + sep : p)) : (s.match(/.{1,70}/g) ?? ['']);
  for (const p of parts) {
    if (cur.length + p.length > 70 && cur !== '') {
      lines.push(cur);
      cur = '';
    }
    cur += p;
  }
  lines.push(cur);
  return lines.join('\r\n\t');
}
