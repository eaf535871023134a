// Random and mutated messages for the indexer's fuzz test (bounded, in npm test) and
// bench/fuzz-mime.ts (long runs), with the tree invariants every index must keep.
import { MimeIndexer, parseMessage } from './indexer.ts';
import type { MessageIndex, MimePart } from './types.ts';

import { prng } from '../../test/prng.ts'; // seeded, so a failure can be replayed from its seed
export { prng };

const LEAF_TYPES = ['text/plain; charset=utf-8', 'text/html', 'application/octet-stream', 'image/png; name="a.png"', 'text/plain; charset*=utf-8\'\'%E2%82%AC'];
const HEADERS = ['Subject: =?utf-8?q?caf=C3=A9?= test', 'From: "A, B" <a@b.example>, c@d', 'X-Folded: one\r\n\ttwo', 'Content-Disposition: attachment; filename*0="a"; filename*1="b"', 'Content-Transfer-Encoding: base64', 'Content-ID: <x@y>'];

/** A random, mostly well-formed message: nested multiparts, message/rfc822, CRLF or LF. */
export function randomMessage(rnd: () => number): Buffer {
  const nl = rnd() < 0.8 ? '\r\n' : '\n';
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const build = (depth: number): string => {
    let h = '';
    for (let i = Math.floor(rnd() * 3); i > 0; i--) h += pick(HEADERS).replace(/\r\n/g, nl) + nl;
    const r = rnd();
    if (depth < 5 && r < 0.35) {
      const b = `b${depth}_${Math.floor(rnd() * 1e6)}`;
      let s = `${h}Content-Type: multipart/${pick(['mixed', 'alternative', 'related', 'digest'])}; boundary="${b}"${nl}${nl}`;
      if (rnd() < 0.5) s += `preamble${nl}`;
      for (let i = 1 + Math.floor(rnd() * 3); i > 0; i--) s += `--${b}${rnd() < 0.1 ? '  ' : ''}${nl}${build(depth + 1)}${nl}`;
      s += `--${b}--${nl}`;
      if (rnd() < 0.3) s += `epilogue${nl}`;
      return s;
    }
    if (depth < 5 && r < 0.45) return `${h}Content-Type: message/${pick(['rfc822', 'global'])}${nl}${nl}${build(depth + 1)}`;
    let bodyText = '';
    for (let i = Math.floor(rnd() * 4); i > 0; i--) bodyText += pick(['hello', 'caf\u00e9', '--', '', 'aGVsbG8=', '=C3=A9 soft=', '-- ']) + nl;
    if (rnd() < 0.5) bodyText += 'no final newline';
    return `${h}Content-Type: ${pick(LEAF_TYPES)}${nl}${nl}${bodyText}`;
  };
  return Buffer.from(build(0), 'utf8');
}

/** Damages a message: truncation, byte flips, inserted delimiter lines, cut or repeated slices. */
export function mutate(m: Buffer, rnd: () => number): Buffer {
  let out = Buffer.from(m);
  for (let n = 1 + Math.floor(rnd() * 4); n > 0; n--) {
    const pos = Math.floor(rnd() * (out.length + 1));
    const r = rnd();
    if (r < 0.2) out = out.subarray(0, pos);
    else if (r < 0.4 && out.length > 0) out[Math.min(pos, out.length - 1)] = Math.floor(rnd() * 256);
    else if (r < 0.6) {
      const delim = /--[\w=.'-]+(--)?/.exec(out.toString('latin1', pos))?.[0] ?? '--x';
      out = Buffer.concat([out.subarray(0, pos), Buffer.from(`\r\n${delim}\n`), out.subarray(pos)]);
    } else if (r < 0.8) out = Buffer.concat([out.subarray(0, pos), out.subarray(pos + Math.floor(rnd() * 40))]);
    else out = Buffer.concat([out.subarray(0, pos), out.subarray(pos, pos + Math.floor(rnd() * 200)), out.subarray(pos)]);
  }
  return out;
}

/** Checks an index against its message; returns the first broken invariant, or null. */
export function checkIndex(m: Buffer, ix: MessageIndex): string | null {
  if (ix.size !== m.length) return `size ${ix.size} != ${m.length}`;
  if (ix.root.headerStart !== 0 || ix.root.end !== m.length) return 'root does not span the message';
  let count = 0;
  const walk = (p: MimePart, parent: MimePart | null): string | null => {
    count++;
    if (!(p.headerStart <= p.bodyStart && p.bodyStart <= p.end && p.end <= m.length)) return `offsets out of order ${p.headerStart}/${p.bodyStart}/${p.end}`;
    if (p.size !== p.end - p.bodyStart) return 'size != end - bodyStart';
    if (p.lines < 0 || p.lines > p.size) return `lines ${p.lines} for size ${p.size}`;
    if (parent && (p.headerStart < parent.bodyStart || p.end > parent.end)) return 'child outside its parent body';
    if (p.type === 'message' && p.children.length === 1 && p.children[0]!.headerStart !== p.bodyStart) return 'encapsulated message not at body start';
    let last = p.bodyStart;
    for (const c of p.children) {
      if (c.headerStart < last) return 'children overlap or are out of order';
      last = c.end;
      const e = walk(c, p);
      if (e) return e;
    }
    return null;
  };
  const e = walk(ix.root, null);
  if (e) return e;
  if (count !== ix.parts) return `parts ${ix.parts} != ${count} nodes`;
  return null;
}

/** Parses one message whole and in random chunks; returns a failure description or null. */
export function fuzzOne(m: Buffer, rnd: () => number): string | null {
  let whole: MessageIndex;
  try {
    whole = parseMessage(m);
  } catch (err) {
    return `threw: ${String(err)}`;
  }
  const bad = checkIndex(m, whole);
  if (bad) return bad;
  const ix = new MimeIndexer();
  for (let i = 0; i < m.length; ) {
    const n = 1 + Math.floor(rnd() * 97);
    ix.write(m.subarray(i, i + n));
    i += n;
  }
  const streamed = JSON.stringify(ix.end());
  if (streamed !== JSON.stringify(whole)) return 'chunked parse differs from whole-buffer parse';
  return null;
}

/** Runs random and mutated messages for a time budget; returns counts and failures (with seeds). */
export function fuzz(ms: number, seed: number): { runs: number; bytes: number; failures: { seed: number; error: string }[] } {
  const stop = Date.now() + ms;
  let runs = 0;
  let bytes = 0;
  const failures: { seed: number; error: string }[] = [];
  for (let s = seed; Date.now() < stop && failures.length < 10; s++) {
    const rnd = prng(s);
    let m = randomMessage(rnd);
    if (rnd() < 0.7) m = mutate(m, rnd);
    if (rnd() < 0.05) m = Buffer.from(Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)));
    const error = fuzzOne(m, rnd);
    if (error) failures.push({ seed: s, error });
    runs++;
    bytes += m.length;
  }
  return { runs, bytes, failures };
}
