// Domain names and addresses as the config stores them. Domains are accepted as A-label
// (xn--...) or U-label and stored in one canonical form, the lowercase U-label, so that
// "Example.COM", "bücher.example" and "xn--bcher-kva.example" each have one key.
// Callers matching incoming names (RCPT TO, login) use the same functions.
import { domainToASCII, domainToUnicode } from 'node:url';

/** A domain name or an error message saying why it is not one. */
export function normalizeDomain(name: string): { domain: string; ascii: string } | { error: string } {
  if (name === '' || name.endsWith('.')) return { error: `invalid domain ${JSON.stringify(name)}: empty or trailing dot` };
  if (/^[\d.]+$/.test(name)) return { error: `invalid domain ${JSON.stringify(name)}: an IP address is not a domain` };
  const ascii = domainToASCII(name.normalize('NFC')); // IDNA (UTS #46) processing; '' when invalid
  if (ascii === '') return { error: `invalid domain ${JSON.stringify(name)}` };
  if (ascii.length > 253) return { error: `invalid domain ${JSON.stringify(name)}: longer than 253 octets` }; // RFC 1035 §2.3.4
  for (const label of ascii.split('.')) {
    if (label.length === 0 || label.length > 63) return { error: `invalid domain ${JSON.stringify(name)}: label length` }; // RFC 1035 §2.3.4
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(label)) return { error: `invalid domain ${JSON.stringify(name)}: label ${JSON.stringify(label)}` }; // RFC 5890 §2.3.1 (LDH)
  }
  return { domain: domainToUnicode(ascii), ascii };
}

/** A parsed address: localpart as configured (lowercased unless case-sensitive) and canonical domain. */
export interface ConfigAddress {
  localpart: string; // '' for a catch-all destination ('@example.com')
  domain: string; // canonical U-label
}

// RFC 5322 §3.2.3 atext, widened with any non-ASCII character for RFC 6531 §3.3 UTF-8 local parts.
const atom = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\\u0080-\\u{10FFFF}]+";
const dotAtom = new RegExp(`^${atom}(\\.${atom})*$`, 'u');

/** Checks a localpart; quoted-string localparts are not accepted in the config. */
export function localpartError(localpart: string): string | undefined {
  if (!dotAtom.test(localpart)) return `invalid localpart ${JSON.stringify(localpart)}`; // RFC 5321 §4.1.2 Dot-string
  if (Buffer.byteLength(localpart) > 64) return `localpart ${JSON.stringify(localpart)} longer than 64 octets`; // RFC 5321 §4.5.3.1.1
  return undefined;
}

export function canonicalLocalpart(localpart: string, caseSensitive: boolean): string {
  const nfc = localpart.normalize('NFC'); // RFC 6532 §3.1: UTF-8 compared in NFC
  return caseSensitive ? nfc : nfc.toLowerCase();
}

/** Splits `localpart@domain` at the last '@' and checks both halves. */
export function parseAddress(address: string): ConfigAddress | { error: string } {
  const at = address.lastIndexOf('@');
  if (at < 0) return { error: `invalid address ${JSON.stringify(address)}: no @` };
  const localpart = address.slice(0, at);
  const d = normalizeDomain(address.slice(at + 1));
  if ('error' in d) return { error: `invalid address ${JSON.stringify(address)}: ${d.error}` };
  if (localpart !== '') {
    const e = localpartError(localpart);
    if (e) return { error: `invalid address ${JSON.stringify(address)}: ${e}` };
  }
  return { localpart, domain: d.domain };
}

export function formatAddress(a: ConfigAddress): string {
  return `${a.localpart}@${a.domain}`;
}
