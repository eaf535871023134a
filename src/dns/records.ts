// Converts dns-packet's decoded answers into the typed records of RecordMap: names
// normalised (lowercase, no trailing dot), TXT strings kept as bytes.
import type { Answer } from 'dns-packet';
import type { RecordMap, RRType } from './types.ts';

/** Lowercase, without trailing dot; the root "." becomes ''. */
export function wireName(n: string): string {
  return (n.endsWith('.') ? n.slice(0, -1) : n).toLowerCase();
}

function toBuffer(s: string | Buffer): Buffer {
  return typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
}

/** The typed record for an answer of the requested type; undefined when the type differs. */
export function convertAnswer<K extends RRType>(a: Answer, type: K): RecordMap[K] | undefined {
  if (a.type !== type) return undefined;
  const r = convert(a);
  return r as RecordMap[K] | undefined;
}

function convert(a: Answer): RecordMap[RRType] | undefined {
  switch (a.type) {
    case 'A':
    case 'AAAA':
      return a.data;
    case 'CNAME':
    case 'PTR':
    case 'NS':
      return wireName(a.data);
    case 'MX':
      return { preference: a.data.preference ?? 0, exchange: wireName(a.data.exchange) };
    case 'TXT': {
      const strings = (Array.isArray(a.data) ? a.data : [a.data]).map(toBuffer);
      return { strings, text: Buffer.concat(strings).toString('utf8') }; // RFC 7208 §3.3: strings joined without spaces
    }
    case 'TLSA':
      return { usage: a.data.usage, selector: a.data.selector, matchingType: a.data.matchingType, data: a.data.certificate };
    case 'SRV':
      return { priority: a.data.priority ?? 0, weight: a.data.weight ?? 0, port: a.data.port, target: wireName(a.data.target) };
    case 'CAA':
      return { flags: a.data.flags ?? (a.data.issuerCritical ? 128 : 0), tag: a.data.tag, value: a.data.value };
    default:
      return undefined;
  }
}
