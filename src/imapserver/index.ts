// Public surface of the IMAP server (IMAP4rev2 RFC 9051 and IMAP4rev1 RFC 3501 with the
// extensions listed in any.ts): starting listeners from the configuration.
export { startImap, type StartImapOptions, type RunningImap } from './start.ts';
export { startImapServers, type ImapServers, type ImapListenerSpec } from './server.ts';
export type { ImapContext } from './context.ts';
