// MD5 compression (RFC 1321) with an exposed chaining state. node:crypto cannot export
// or resume an MD5 state, and CRAM-MD5 (RFC 2195) must be verified from stored HMAC-MD5
// inner/outer states (RFC 2104 §4) so that no password-equivalent plaintext is kept.

const S = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21];
const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0); // RFC 1321 §3.4

/** The four 32-bit words of MD5's chaining state (A, B, C, D). */
export type Md5State = [number, number, number, number];
export const md5Initial: Md5State = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]; // RFC 1321 §3.3

/** Processes one 64-byte block into the state (RFC 1321 §3.4). */
function compress(state: Md5State, block: Buffer, at: number): void {
  let [a, b, c, d] = state;
  for (let i = 0; i < 64; i++) {
    let f: number;
    let g: number;
    if (i < 16) { f = (b & c) | (~b & d); g = i; }
    else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
    else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
    else { f = c ^ (b | ~d); g = (7 * i) % 16; }
    const x = (a + f + K[i]! + block.readUInt32LE(at + g * 4)) >>> 0;
    const s = S[i]!;
    a = d; d = c; c = b;
    b = (b + ((x << s) | (x >>> (32 - s)))) >>> 0;
  }
  state[0] = (state[0] + a) >>> 0; state[1] = (state[1] + b) >>> 0;
  state[2] = (state[2] + c) >>> 0; state[3] = (state[3] + d) >>> 0;
}

/** The state after exactly one 64-byte block (an HMAC key xor ipad/opad). */
export function md5StateAfterBlock(block: Buffer): Md5State {
  if (block.length !== 64) throw new Error('md5: block must be 64 bytes');
  const st: Md5State = [...md5Initial];
  compress(st, block, 0);
  return st;
}

/** Finishes an MD5 hash of `data`, resuming from a state that has already consumed `prefixLength` bytes (a multiple of 64). */
export function md5Resume(state: Md5State, prefixLength: number, data: Buffer): Buffer {
  const st: Md5State = [...state];
  const total = prefixLength + data.length;
  const padLen = ((data.length + 8) >> 6 << 6) + 64; // RFC 1321 §3.1-3.2: 0x80, zeros, 64-bit length
  const buf = Buffer.alloc(padLen);
  data.copy(buf);
  buf[data.length] = 0x80;
  const bits = BigInt(total) * 8n;
  buf.writeBigUInt64LE(bits & 0xffffffffffffffffn, padLen - 8);
  for (let at = 0; at < padLen; at += 64) compress(st, buf, at);
  const out = Buffer.alloc(16);
  st.forEach((w, i) => out.writeUInt32LE(w, i * 4));
  return out;
}
