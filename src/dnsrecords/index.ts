// Public surface of src/dnsrecords: the DNS records a domain needs (for the admin page,
// `mailcove config dnsrecords` and quickstart) and the live check of them (`config dnscheck`).
export { requiredRecords, hostKeySpkis, domainRecords, type RequiredRecordsInput } from './required.ts';
export { checkRecords } from './check.ts';
export { zoneLines } from './presentation.ts';
export { DnsRecordsError, type DnsRecordSpec, type DnsRecordType, type RecordMatch, type RecordCheck, type CheckStatus } from './types.ts';
