// Public surface of the SMTP server: MX and submission listeners over the store, queue,
// config, DNS and TLS (issue 3).
export { startSmtpServers, type SmtpListenerSpec, type SmtpServers } from './server.ts';
export type { SmtpContext, SmtpLimits, SmtpTimeouts, SmtpRateLimits, SmtpService } from './context.ts';
export { simulatedFailure } from './simulate.ts';
export { startSmtp, defaultRateLimits, type StartSmtpOptions, type RunningSmtp } from './start.ts';
export { AccountCache } from './accounts.ts';
