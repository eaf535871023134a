// Enhanced mail system status codes (RFC 3463 class.subject.detail, carried in replies per
// RFC 2034) by meaning, so handlers can name the condition instead of spelling digits.
export const enhanced = {
  ok: '2.0.0', // RFC 3463 §3.1 other or undefined status, success
  senderOK: '2.1.0', // RFC 3463 §3.2 X.1.0 other address status
  recipientOK: '2.1.5', // RFC 3463 §3.2 X.1.5 destination address valid
  authOK: '2.7.0', // RFC 4954 §6 authentication succeeded
  badRecipientSyntax: '5.1.3', // RFC 3463 §3.2 X.1.3 bad destination mailbox address syntax
  badSenderSyntax: '5.1.7', // RFC 3463 §3.2 X.1.7 bad sender's mailbox address syntax
  noSuchUser: '5.1.1', // RFC 3463 §3.2 X.1.1 bad destination mailbox address
  mailboxFull: '5.2.2', // RFC 3463 §3.3 X.2.2 mailbox full
  tooBig: '5.3.4', // RFC 3463 §3.4 X.3.4 message too big for system
  loop: '5.4.6', // RFC 3463 §3.5 X.4.6 routing loop detected
  badConnection: '4.4.2', // RFC 3463 §3.5 X.4.2 bad connection (timeouts, 421)
  badCommand: '5.5.1', // RFC 3463 §3.6 X.5.1 invalid command (also bad sequence)
  badSyntax: '5.5.2', // RFC 3463 §3.6 X.5.2 syntax error
  tooManyRecipients: '4.5.3', // RFC 3463 §3.6 X.5.3 too many recipients
  badParams: '5.5.4', // RFC 3463 §3.6 X.5.4 invalid command arguments
  badContent: '5.6.0', // RFC 3463 §3.7 X.6.0 other or undefined media error
  utf8Required: '5.6.7', // RFC 6531 §3.7.4.1 non-ASCII addresses not permitted without SMTPUTF8
  notAuthorized: '5.7.1', // RFC 3463 §3.8 X.7.1 delivery not authorized
  authRequired: '5.7.0', // RFC 4954 §6 authentication required (530 5.7.0)
  authFailed: '5.7.8', // RFC 4954 §6 authentication credentials invalid
  requireTLS: '5.7.30', // RFC 8689 §6 REQUIRETLS support required
  policy: '4.7.0', // RFC 3463 §3.8 X.7.0 other security or policy status (rate limits)
} as const;
