// Content-Type / Content-Disposition values: the main token and its parameters
// (RFC 2045 §5.1, RFC 2183 §2), with RFC 2231 continuations, charsets and languages.
import { decodeCharset } from './decode.ts';
import type { MimeParam } from './types.ts';

/** A parsed structured value: `value` lowercased, params in header order. */
export interface StructuredValue {
  value: string;
  params: MimeParam[];
}

interface RawParam {
  name: string; // lowercased, without the RFC 2231 section suffix
  section: number | null; // RFC 2231 §3: continuation number
  extended: boolean; // RFC 2231 §4: name*= value is charset'lang'%XX
  value: string;
}

/** Skips a (nested) comment starting at i (RFC 5322 §3.2.2); returns the index after it. */
function skipComment(s: string, i: number): number {
  let depth = 0;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return s.length;
}

function skipSpace(s: string, i: number): number {
  for (;;) {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\r' || s[i] === '\n')) i++;
    if (s[i] === '(') i = skipComment(s, i);
    else return i;
  }
}

/** Percent-decodes an RFC 2231 §4 extended value to bytes; a broken escape is kept literally. */
function percentBytes(s: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '%' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(...Buffer.from(s[i]!, 'utf8')); // RFC 6532: raw UTF-8 in the value
  }
  return Buffer.from(out);
}

/** Parses `type/subtype; a=b; c*0="x"; c*1*=utf-8''%C3%A9`. Never throws. */
export function parseStructuredValue(input: string): StructuredValue {
  let i = skipSpace(input, 0);
  let value = '';
  while (i < input.length && input[i] !== ';') {
    if (input[i] === '(') i = skipComment(input, i);
    else if (input[i] === ' ' || input[i] === '\t' || input[i] === '"') i++; // stray spaces/quotes: "text / plain"
    else value += input[i++];
  }
  const raw: RawParam[] = [];
  while (i < input.length) {
    i = skipSpace(input, i + 1); // past ';'
    let name = '';
    while (i < input.length && input[i] !== '=' && input[i] !== ';') name += input[i++];
    name = name.trim().toLowerCase();
    if (input[i] !== '=') continue; // attribute without value: ignored
    i = skipSpace(input, i + 1);
    let v = '';
    if (input[i] === '"') {
      // RFC 5322 §3.2.4 quoted-string; an unterminated one runs to the end of the value.
      for (i++; i < input.length && input[i] !== '"'; i++) {
        if (input[i] === '\\' && i + 1 < input.length) i++;
        v += input[i];
      }
      i++;
      while (i < input.length && input[i] !== ';') i++; // junk after the closing quote
    } else {
      while (i < input.length && input[i] !== ';' && input[i] !== '(') v += input[i++];
      v = v.trim();
      if (input[i] === '(') {
        i = skipComment(input, i);
        while (i < input.length && input[i] !== ';') i++;
      }
    }
    if (name === '') continue;
    const m = /^(.*?)\*(?:(\d+)\*?)?$/.exec(name);
    if (m) {
      const extended = name.endsWith('*');
      raw.push({ name: m[1]!, section: m[2] === undefined ? null : Number(m[2]), extended, value: v });
    } else raw.push({ name, section: null, extended: false, value: v });
  }
  return { value: value.toLowerCase(), params: joinParams(raw) };
}

/** RFC 2231 §3/§4: joins `name*0`, `name*1*` ... in section order and decodes the charset of section 0. */
function joinParams(raw: RawParam[]): MimeParam[] {
  const out: MimeParam[] = [];
  const groups = new Map<string, RawParam[]>();
  for (const p of raw) {
    const g = groups.get(p.name);
    if (g) g.push(p);
    else {
      groups.set(p.name, [p]);
      out.push({ name: p.name, value: '' });
    }
  }
  for (const o of out) {
    const g = groups.get(o.name)!;
    const continued = g.filter((p) => p.section !== null).sort((a, b) => a.section! - b.section!);
    // A plain `name=` alongside continuations is what non-2231 readers use; prefer the 2231 form.
    const parts = continued.length > 0 ? continued : [g.find((p) => p.extended) ?? g[0]!];
    let charset: string | null = null;
    const bytes: Buffer[] = [];
    for (const [k, p] of parts.entries()) {
      let v = p.value;
      if (p.extended && k === 0) {
        const q = /^([^']*)'[^']*'(.*)$/s.exec(v); // RFC 2231 §4: charset'language'value
        if (q) {
          charset = q[1]! || null;
          v = q[2]!;
        }
      }
      bytes.push(p.extended ? percentBytes(v) : Buffer.from(v, 'utf8'));
    }
    o.value = decodeCharset(Buffer.concat(bytes), charset ?? 'utf-8');
  }
  return out;
}
