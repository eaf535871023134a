// Public surface of the outbound SMTP client: the wire protocol, and delivery to a domain's
// MX hosts under its TLS policy (MTA-STS, DANE, REQUIRETLS) or to a smarthost, with the
// MX, SOCKS5 and policy pieces the queue schedules around.
export { SmtpClient, SmtpClientError, type Envelope, type Reply, type RecipientResult, type SendResult, type SmtpClientErrorKind } from './client.ts';
export { deliverDirect, deliverSmarthost, sendMessages, type OutboundMessage, type RecipientOutcome, type TlsOutcome, type DeliveryContext } from './deliver.ts';
export { lookupMx, lookupHostIPs, IpFailures, type MxHost, type MxLookup, type IpLookup } from './mx.ts';
export { socksConnect } from './socks.ts';
export { parseMtaStsRecord, parsePolicy, policyMatchesHost, fetchPolicy, resolvePolicy, refreshDue, MemoryPolicyStorage, StsFetchBackoff, type MtaStsPolicy, type CachedPolicy, type MtaStsPolicyStorage, type PolicyLookup, type StsFailure } from './mtasts.ts';
export { lookupTlsa, verifyDane, peerChain, isUsableTlsa, type TlsaLookup, type DaneVerification, type DaneFailure } from './dane.ts';
