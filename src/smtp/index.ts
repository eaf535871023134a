// Public surface of the shared SMTP pieces: replies and the typed protocol error, the
// command grammar (paths, parameters, xtext), the DATA reader and dot-stuffing.
export { SmtpError, isSmtpError, formatReply } from './reply.ts';
export { parseCommand, parseHelo, parseMailFrom, parseRcptTo, mailboxPath, quoteLocalpart, type SmtpPath, type MailParams, type RcptParams, type ParseOptions } from './command.ts';
export { xtextDecode, xtextEncode, utf8AddrXtextDecode, utf8AddrXtextEncode, orcptParam } from './xtext.ts';
export { DataReader } from './datareader.ts';
export { dotStuffTransform } from './dotstuff.ts';
export { composeDsn, type ComposedDsn, type DsnAction, type DsnInput, type DsnRecipient } from './dsn.ts';
