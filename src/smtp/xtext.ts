// xtext (RFC 3461 §4) for ENVID, ORCPT and AUTH=, and the UTF-8 form of ORCPT addresses
// (RFC 6533 §3: utf-8-addr-xtext / utf-8-addr-unitext with "\x{HEX}" escapes).

/** Decodes xtext: "+" followed by two uppercase hex digits is a byte; other chars are !-~ except "+" and "=". Throws on bad input. */
export function xtextDecode(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new Error('bad xtext escape'); // RFC 3461 §4: hexchar = ASCII "+" 2(%x30-39 / %x41-46)
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (c >= 0x21 && c <= 0x7e && c !== 0x3d) bytes.push(c);
    else throw new Error('bad xtext character');
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Encodes to xtext: bytes outside !-~, "+" and "=" become "+XX". */
export function xtextEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += b >= 0x21 && b <= 0x7e && b !== 0x2b && b !== 0x3d ? String.fromCharCode(b) : `+${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** Decodes utf-8-addr-xtext/unitext (RFC 6533 §3): "\x{HEX}" escapes a code point; raw UTF-8 is allowed in unitext. */
export function utf8AddrXtextDecode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; ) {
    if (s[i] === '\\') {
      const m = /^\\x\{([0-9A-Fa-f]{1,6})\}/.exec(s.slice(i));
      if (!m) throw new Error('bad \\x{} escape');
      const cp = parseInt(m[1]!, 16);
      if (cp > 0x10ffff) throw new Error('bad code point');
      out += String.fromCodePoint(cp);
      i += m[0].length;
      continue;
    }
    const cp = s.codePointAt(i)!;
    if (cp < 0x21 || cp === 0x2b || cp === 0x3d || cp === 0x7f) throw new Error('bad character'); // "+" and "=" must be escaped
    out += String.fromCodePoint(cp);
    i += cp > 0xffff ? 2 : 1;
  }
  return out;
}

/** Encodes utf-8-addr-xtext (RFC 6533 §3): non-ASCII, controls, space, "+", "=" and "\" as "\x{HEX}", for ORCPT=utf-8;... */
export function utf8AddrXtextEncode(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    out += cp < 0x21 || cp > 0x7e || ch === '+' || ch === '=' || ch === '\\' ? `\\x{${cp.toString(16).toUpperCase()}}` : ch;
  }
  return out;
}

/** An ORCPT parameter value (RFC 3461 §4.2, RFC 6533 §3) from the decoded 'type;address' the queue keeps. */
export function orcptParam(decoded: string): string {
  const semi = decoded.indexOf(';');
  if (semi < 0) return `rfc822;${xtextEncode(decoded)}`;
  const type = decoded.slice(0, semi);
  const address = decoded.slice(semi + 1);
  return `${type};${type.toLowerCase() === 'utf-8' ? utf8AddrXtextEncode(address) : xtextEncode(address)}`;
}
