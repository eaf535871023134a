// Store errors as IMAP responses (RFC 9051 §7.1 response codes, RFC 5530).
import type { StoreError } from '../store/index.ts';
import { ImapError } from './errors.ts';

export function storeErrorToImap(e: StoreError): ImapError {
  const code: string = e.code;
  switch (code) {
    case 'NONEXISTENT':
    case 'ALREADYEXISTS':
    case 'CANNOT':
    case 'OVERQUOTA':
    case 'INUSE':
      return new ImapError('NO', code, e.message);
    case 'BADNAME':
      return new ImapError('NO', 'CANNOT', e.message); // RFC 5530 §3: a name the server cannot use
    case 'BADFLAG':
      return new ImapError('BAD', undefined, e.message);
    case 'LIMIT':
      return new ImapError('NO', 'LIMIT', e.message); // RFC 5530 §3
    case 'MODIFIED':
      return new ImapError('NO', undefined, e.message);
    case 'CLOSED':
      return new ImapError('BYE', 'UNAVAILABLE', 'server shutting down'); // RFC 5530 §3
    case 'IO':
      return new ImapError('NO', 'SERVERBUG', 'write failed; the change may or may not have been saved'); // RFC 5530 §3
    default:
      return new ImapError('NO', 'SERVERBUG', e.message);
  }
}
