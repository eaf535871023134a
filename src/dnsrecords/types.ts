// The records a domain needs and the result of checking them against the DNS: plain data,
// so the admin API can send them as they are and the CLI can print them.

/** Record types we ask operators to publish. */
export type DnsRecordType = 'MX' | 'TXT' | 'CNAME' | 'SRV' | 'CAA' | 'TLSA' | 'A' | 'AAAA';

/**
 * How checkRecords compares what the DNS has with the expected record:
 * - mx: the expected host is among the MX targets (RFC 5321 §5.1)
 * - spf: exactly one v=spf1 record (RFC 7208 §4.5), holding the expected mechanisms and an `all` at least as strict
 * - dkim: exactly one key record with the same k= and p= (RFC 6376 §3.6.1)
 * - dmarc, tlsrpt, mtasts: exactly one record of the version (RFC 7489 §6.6.3, RFC 8460 §3, RFC 8461 §3.1) with the same tags, any order; DMARC tags at their default count as absent
 * - cname: a CNAME to the target, or A/AAAA records equal to the target's
 * - srv: a record with the target and port (RFC 2782); target '.' means "not offered" (RFC 6186 §3)
 * - caa: an `issue` record for the CA (RFC 8659 §4.2)
 * - tlsa: a record with the same usage, selector, matching type and data (RFC 6698 §2)
 * - address: the address is among the A/AAAA records
 */
export type RecordMatch = 'mx' | 'spf' | 'dkim' | 'dmarc' | 'tlsrpt' | 'mtasts' | 'cname' | 'srv' | 'caa' | 'tlsa' | 'address';

export interface DnsRecordSpec {
  name: string; // owner name: fully qualified, A-labels, lowercase, no trailing dot
  type: DnsRecordType;
  value: string; // RDATA in zone-file presentation (RFC 1035 §5.1): names end in '.', TXT as quoted strings of ≤255 octets
  purpose: string; // what it is for, with its RFC, e.g. 'DKIM selector 2026a (RFC 6376)'
  match: RecordMatch;
}

export type CheckStatus = 'correct' | 'missing' | 'wrong' | 'error';

export interface RecordCheck {
  spec: DnsRecordSpec;
  status: CheckStatus; // error: the DNS could not answer (timeout, SERVFAIL...), so nothing is known
  found: string[]; // the relevant records found, in presentation form
  message: string; // for the reader: what differs and what was expected; a remark when correct
}

/** A file named in the config (DKIM key, certificate) could not be read or used. */
export class DnsRecordsError extends Error {
  override name = 'DnsRecordsError';
}
