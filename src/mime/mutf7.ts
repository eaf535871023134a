// Modified UTF-7 mailbox names (RFC 3501 §5.1.3): IMAP4rev1 clients that did not ENABLE
// UTF8=ACCEPT, and Dovecot's Maildir++ folder names. "&" is "&-", other non-ASCII runs are
// "&" + modified base64 of the UTF-16 code units + "-".

/** A name that breaks the RFC 3501 §5.1.3 rules. */
export class Mutf7Error extends Error {
  override name = 'Mutf7Error';
}

export function encodeMutf7(name: string): string {
  let out = '';
  let run: number[] = [];
  const flush = () => {
    if (run.length === 0) return;
    const b = Buffer.alloc(run.length * 2);
    run.forEach((u, i) => b.writeUInt16BE(u, i * 2));
    out += '&' + b.toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-';
    run = [];
  };
  for (let i = 0; i < name.length; i++) {
    const u = name.charCodeAt(i);
    if (u >= 0x20 && u <= 0x7e) {
      flush();
      out += u === 0x26 ? '&-' : name[i];
    } else run.push(u);
  }
  flush();
  return out;
}

/** Decodes a modified UTF-7 name; malformed input (RFC 3501 §5.1.3 rules) is a Mutf7Error. */
export function decodeMutf7(name: string): string {
  let out = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    const code = c.charCodeAt(0);
    if (code < 0x20 || code > 0x7e) throw new Mutf7Error('mailbox name is not modified UTF-7 (enable UTF8=ACCEPT for UTF-8)');
    if (c !== '&') {
      out += c;
      continue;
    }
    const end = name.indexOf('-', i + 1);
    if (end < 0) throw new Mutf7Error('unterminated modified UTF-7 sequence in mailbox name');
    const enc = name.slice(i + 1, end);
    i = end;
    if (enc === '') {
      out += '&';
      continue;
    }
    if (!/^[A-Za-z0-9+,]+$/.test(enc)) throw new Mutf7Error('invalid modified UTF-7 in mailbox name');
    const b = Buffer.from(enc.replace(/,/g, '/'), 'base64');
    if (b.length % 2 !== 0 || b.length === 0) throw new Mutf7Error('invalid modified UTF-7 in mailbox name');
    let s = '';
    for (let j = 0; j < b.length; j += 2) s += String.fromCharCode(b.readUInt16BE(j));
    if (/^[\x20-\x7e]*$/.test(s)) throw new Mutf7Error('modified UTF-7 must not encode printable ASCII'); // RFC 3501 §5.1.3
    if (encodeMutf7(s) !== '&' + enc + '-') throw new Mutf7Error('non-canonical modified UTF-7 in mailbox name');
    out += s;
  }
  return out;
}

/** The decoded name, or the name as written when it is not valid modified UTF-7. */
export function decodeMutf7Lenient(name: string): string {
  try {
    return decodeMutf7(name);
  } catch {
    return name;
  }
}
