// What an SMTP session needs from the rest of the server: store, configuration, DNS,
// TLS, limits. Built once per server (server.ts) and shared by all sessions.
import type { DomainsConfig } from '../config/index.ts';
import type { Resolver } from '../dns/index.ts';
import type { Store } from '../store/index.ts';
import type { TlsConfig } from '../tls/index.ts';
import type { ConcurrencyLimiter, RateLimiter } from '../ratelimit/index.ts';
import type { AuthFailureLimiter } from '../sasl/index.ts';
import type { AccountCache } from './accounts.ts';

/** The three SMTP services (RFC 5321 MX, RFC 6409 submission, RFC 8314 §3.3 submissions). */
export type SmtpService = 'smtp' | 'submission' | 'submissions';

export interface SmtpLimits {
  maxMessageSize: number; // RFC 1870 SIZE
  maxRecipients: number; // RFC 5321 §4.5.3.1.8 (≥ 100); RFC 9422 RCPTMAX
  maxConnectionsPerIP: number;
  maxCommandLine: number; // octets without CRLF; RFC 5321 §4.5.3.1.4 says 512 minimum, extensions need more
  maxErrors: number; // protocol errors per connection before 421 (a healthy client makes few)
  maxReceived: number; // Received fields before a message counts as looping (RFC 5321 §6.3)
}

export interface SmtpTimeouts {
  commandMs: number; // RFC 5321 §4.5.3.2.7: at least 5 minutes waiting for a command
  dataMs: number; // waiting for more DATA/BDAT bytes; RFC 5321 §4.5.3.2.5/6 (client side: 3 and 10 minutes)
}

/** Per-IP-class limits on MX (RFC 5321 gives none; the defaults follow mox). */
export interface SmtpRateLimits {
  connections: RateLimiter; // new connections
  concurrent: ConcurrencyLimiter;
  messages: RateLimiter; // delivered messages
  bytes: RateLimiter; // delivered bytes
}

export interface SmtpContext {
  hostname: string; // greeting, Received "by", Authentication-Results authserv-id
  store: Store;
  accounts: AccountCache; // open accounts shared by the sessions
  domains: () => DomainsConfig; // the live domains.conf
  configDir: string; // DKIM key files are relative to it
  resolver: Resolver;
  spoolDir: string; // temp files while receiving; same file system as the data directory (hard links)
  limits: SmtpLimits;
  timeouts: SmtpTimeouts;
  unknownRecipientDelayMs: number; // slows down address harvesting (RCPT to unknown users)
  authFailures: AuthFailureLimiter;
  rateLimits: SmtpRateLimits | undefined; // undefined: no rate limits (localserve)
  /** localserve: every recipient goes to this account; simulated failures; plaintext AUTH on loopback. */
  localserve: { account: string; simulatedTimeoutMs: number } | undefined;
}

export interface ListenerContext {
  service: SmtpService;
  tls: TlsConfig | undefined; // STARTTLS (smtp, submission) or implicit TLS (submissions)
  hostname: string;
}
