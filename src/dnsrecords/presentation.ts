// Zone-file presentation (RFC 1035 §5.1) of the record data we print and of the records
// we find, and reading back the presentation of our own specs for checking.
import type { CaaRecord, MxRecord, SrvRecord, TlsaRecord, TxtRecord } from '../dns/index.ts';
import type { DnsRecordSpec } from './types.ts';

/** A name in presentation: absolute, with the trailing dot; the root is '.'. */
export function absolute(name: string): string {
  return name === '' ? '.' : `${name}.`;
}

/** One character-string (RFC 1035 §5.1): quoted, '"' and '\' escaped, other non-printables as \DDD. */
function quoted(b: Buffer): string {
  let s = '"';
  for (const c of b) s += c === 0x22 || c === 0x5c ? `\\${String.fromCharCode(c)}` : c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\${String(c).padStart(3, '0')}`;
  return `${s}"`;
}

/** TXT data as character-strings of at most 255 octets (RFC 1035 §3.3.14), joined again by readers (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
export function txtValue(text: string): string {
  const b = Buffer.from(text, 'utf8');
  const parts: string[] = [];
  for (let i = 0; i < b.length || i === 0; i += 255) parts.push(quoted(b.subarray(i, i + 255)));
  return parts.join(' ');
}

/** The text of TXT data in presentation: the character-strings concatenated. */
export function txtText(value: string): string {
  const out: number[] = [];
  const re = /"((?:[^"\\]|\\.)*)"/g;
  for (const [, body = ''] of value.matchAll(re)) {
    for (let i = 0; i < body.length; i++) {
      const c = body[i]!;
      if (c !== '\\') {
        out.push(...Buffer.from(c, 'utf8'));
      } else if (/^\d{3}$/.test(body.slice(i + 1, i + 4))) {
        out.push(Number(body.slice(i + 1, i + 4))); // \DDD: one octet in decimal
        i += 3;
      } else {
        out.push(body.charCodeAt(++i)); // \X: X itself
      }
    }
  }
  return Buffer.from(out).toString('utf8');
}

export const present = {
  mx: (r: MxRecord): string => `${r.preference} ${absolute(r.exchange)}`,
  txt: (r: TxtRecord): string => r.strings.map(quoted).join(' ') || '""',
  name: (n: string): string => absolute(n),
  srv: (r: SrvRecord): string => `${r.priority} ${r.weight} ${r.port} ${absolute(r.target)}`,
  caa: (r: CaaRecord): string => `${r.flags} ${r.tag} ${quoted(Buffer.from(r.value, 'utf8'))}`,
  tlsa: (r: TlsaRecord): string => `${r.usage} ${r.selector} ${r.matchingType} ${r.data.toString('hex')}`,
};

/** A name from presentation: lowercase, no trailing dot; '.' is the root (''). */
function relativeName(n: string): string {
  return n === '.' ? '' : n.replace(/\.$/, '').toLowerCase();
}

/** Reads back the data of a spec this module made (not general zone-file parsing). */
export const parse = {
  mx(v: string): MxRecord {
    const [pref = '', exchange = ''] = v.split(/\s+/);
    return { preference: Number(pref), exchange: relativeName(exchange) };
  },
  srv(v: string): SrvRecord {
    const [priority = '', weight = '', port = '', target = ''] = v.split(/\s+/);
    return { priority: Number(priority), weight: Number(weight), port: Number(port), target: relativeName(target) };
  },
  caa(v: string): CaaRecord {
    const m = /^(\d+)\s+(\S+)\s+(.*)$/.exec(v);
    return { flags: Number(m?.[1] ?? 0), tag: m?.[2] ?? '', value: txtText(m?.[3] ?? '') };
  },
  tlsa(v: string): TlsaRecord {
    const [usage = '', selector = '', matchingType = '', data = ''] = v.split(/\s+/);
    return { usage: Number(usage), selector: Number(selector), matchingType: Number(matchingType), data: Buffer.from(data, 'hex') };
  },
  name: relativeName,
};

/** The specs as zone-file lines, each preceded by a comment with its purpose. */
export function zoneLines(specs: readonly DnsRecordSpec[]): string[] {
  return specs.flatMap((s) => [`; ${s.purpose}`, `${absolute(s.name)} IN ${s.type} ${s.value}`]);
}
