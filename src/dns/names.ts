// Domain name normalisation for queries and answers: lowercase A-labels, no trailing dot,
// RFC 1035 length limits; and reverse names for PTR lookups.
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { DnsError } from './types.ts';

const MAX_NAME = 253; // RFC 1035 §2.3.4: 255 octets on the wire = 253 characters in text
const MAX_LABEL = 63; // RFC 1035 §2.3.4

/**
 * Lowercase, absolute-dot-insensitive A-label form of a name. U-labels are converted with
 * UTS #46 (node:url domainToASCII, RFC 5891). Throws DnsError('badname').
 */
export function normalizeName(name: string, qtype = '?'): string {
  let n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (/[^\x00-\x7f]/.test(n)) {
    const ascii = domainToASCII(n);
    if (ascii === '') throw new DnsError('badname', name, qtype, 'invalid IDNA name');
    n = ascii;
  }
  n = n.toLowerCase();
  if (n === '') return n; // the root
  if (n.length > MAX_NAME) throw new DnsError('badname', name, qtype, 'name longer than 253 characters');
  for (const label of n.split('.')) {
    if (label === '') throw new DnsError('badname', name, qtype, 'empty label');
    if (label.length > MAX_LABEL) throw new DnsError('badname', name, qtype, 'label longer than 63 characters');
  }
  return n;
}

/** The in-addr.arpa / ip6.arpa name for an address (RFC 1035 §3.5, RFC 3596 §2.5). */
export function reverseName(ip: string): string {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  if (isIPv6(ip)) return `${expandIPv6(ip).split('').reverse().join('.')}.ip6.arpa`;
  throw new DnsError('badname', ip, 'PTR', 'not an IP address');
}

/** The 32 hex nibbles of an IPv6 address (also handles an embedded IPv4 tail). */
function expandIPv6(ip: string): string {
  let s = ip.toLowerCase().replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4?.[1]) {
    const b = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + ((b[0]! << 8) | b[1]!).toString(16) + ':' + ((b[2]! << 8) | b[3]!).toString(16);
  }
  const [head = '', tail] = s.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => g.padStart(4, '0')).join('');
}
