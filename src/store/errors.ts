// Typed store errors: each carries a code that the protocol layers map to their own
// responses (IMAP response codes per RFC 9051 §7.1, SMTP 4xx/5xx, API errors).

export const storeErrorCodes = [
  'NONEXISTENT', // RFC 9051 §7.1: the mailbox (or message, account) does not exist
  'ALREADYEXISTS', // RFC 9051 §7.1: the name is taken
  'CANNOT', // RFC 9051 §7.1: the operation can never succeed (e.g. delete INBOX)
  'OVERQUOTA', // RFC 9051 §7.1 / RFC 9208: the account's quota would be exceeded
  'MODIFIED', // RFC 7162 §3.1.3: UNCHANGEDSINCE failed
  'BADNAME', // a mailbox or account name that is not allowed; a METADATA entry name against RFC 5464 §3.2 (IMAP: BAD)
  'BADFLAG', // a keyword that is not an IMAP atom, or a \flag that is not a system flag
  'LIMIT', // a bounded resource is exhausted (e.g. distinct keywords per account)
  'MAXSIZE', // RFC 5464 §4.3: a METADATA value over metadataLimits.maxSize (IMAP: NO [METADATA MAXSIZE n])
  'TOOMANY', // RFC 5464 §4.3: more METADATA entries than metadataLimits.maxEntries on one mailbox or the server (IMAP: NO [METADATA TOOMANY])
  'INUSE', // RFC 9051 §7.1: the account is open and cannot be removed now
  'CLOSED', // the account or store was closed
  'IO', // a write may or may not have been committed (fsync failed after commit)
  'CORRUPT', // the consistency checker found problems
] as const;
export type StoreErrorCode = (typeof storeErrorCodes)[number];

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

export function isStoreError(e: unknown, code?: StoreErrorCode): e is StoreError {
  return e instanceof StoreError && (code === undefined || e.code === code);
}
