// Schema of mailcove.conf, the static configuration: read once at start (a change needs
// a restart). Listeners, hostnames, TLS/ACME, data directory, limits, logging, DNS.
// Field texts (.describe/.meta) are printed by `mailcove config describe`.
import { isIP } from 'node:net';
import { z } from 'zod';
import { levels } from '../log/index.ts';

const port = z.number().int().min(1).max(65535);

const ipPort = z.string().refine((s) => {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  return !!m && isIP(m[1] ?? '') !== 0 && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
}, 'must be ip:port, e.g. 127.0.0.1:53 or [::1]:53');

/** A protocol service on a listener; present means enabled unless `enabled: false`. */
function service(defaultPort: number, what: string) {
  return z
    .strictObject({
      enabled: z.boolean().default(true).describe('Serve this on the listener.'),
      port: port.default(defaultPort).describe('TCP port.'),
    })
    .default({ enabled: false, port: defaultPort })
    .describe(`${what} Disabled unless present.`);
}

/** A web service; several can share a port, routed by path prefix (and host). */
function webService(defaultPort: number, defaultPath: string, what: string) {
  return z
    .strictObject({
      enabled: z.boolean().default(true).describe('Serve this on the listener.'),
      port: port.default(defaultPort).describe('TCP port.'),
      path: z.string().startsWith('/').endsWith('/').default(defaultPath).describe('URL path prefix.'),
      forwarded: z.boolean().default(false).describe('Trust X-Forwarded-For/-Proto from a reverse proxy in front.'),
    })
    .default({ enabled: false, port: defaultPort, path: defaultPath, forwarded: false })
    .describe(`${what} Disabled unless present.`);
}

const keyCert = z.strictObject({
  certFile: z.string().min(1).meta({ description: 'PEM certificate chain, leaf first; relative to the config directory.', example: 'mail.example.com.crt.pem' }),
  keyFile: z.string().min(1).meta({ description: 'PEM private key; relative to the config directory.', example: 'mail.example.com.key.pem' }),
});

const tls = z
  .strictObject({
    acme: z.string().optional().meta({ description: 'Name of an ACME provider (top-level acme) that obtains certificates for the hostnames served.', example: 'letsencrypt' }),
    keyCerts: z.array(keyCert).min(1).optional().describe('Certificates from files; chosen by SNI.'),
    selfSigned: z.boolean().optional().describe('Make and keep a self-signed certificate in the data directory. For localserve and testing only.'),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').describe('Lowest TLS version accepted.'), // RFC 8996: no TLS 1.0/1.1
  })
  .refine((t) => [t.acme !== undefined, t.keyCerts !== undefined, t.selfSigned === true].filter(Boolean).length === 1, 'give exactly one of acme, keyCerts, selfSigned');

export const listenerSchema = z.strictObject({
  ips: z.array(z.string().refine((s) => isIP(s) !== 0, 'not an IP address')).min(1).meta({ description: 'IP addresses to listen on: 0.0.0.0 for all IPv4 addresses, :: for all IPv6 addresses (IPv6 only: list both for both).', example: ['0.0.0.0', '::'] }),
  hostname: z.string().optional().meta({ description: 'Host name announced on this listener (SMTP greeting, TLS); default: the top-level hostname.', example: 'mail.example.com' }),
  tls: tls.optional().describe('TLS for STARTTLS and the implicit-TLS services. Required when such a service is enabled.'),
  smtp: service(25, 'Incoming mail from other servers (MX), with STARTTLS (RFC 5321, RFC 3207).'),
  submission: service(587, 'Message submission with STARTTLS (RFC 6409).'),
  submissions: service(465, 'Message submission over implicit TLS (RFC 8314 §3.3).'),
  imap: service(143, 'IMAP with STARTTLS (RFC 9051).'),
  imaps: service(993, 'IMAP over implicit TLS (RFC 8314 §3.3).'),
  accountHTTP: webService(80, '/', 'Account page over HTTP.'),
  accountHTTPS: webService(443, '/', 'Account page over HTTPS.'),
  adminHTTP: webService(80, '/admin/', 'Admin page over HTTP.'),
  adminHTTPS: webService(443, '/admin/', 'Admin page over HTTPS.'),
  webmailHTTP: webService(80, '/webmail/', 'Webmail over HTTP.'),
  webmailHTTPS: webService(443, '/webmail/', 'Webmail over HTTPS.'),
  webapiHTTP: webService(80, '/webapi/', 'Web API over HTTP.'),
  webapiHTTPS: webService(443, '/webapi/', 'Web API over HTTPS.'),
  autoconfigHTTPS: service(443, 'Autoconfig/autodiscover for mail clients, on autoconfig.<domain> (HTTPS).'),
  mtastsHTTPS: service(443, 'MTA-STS policies on mta-sts.<domain> (RFC 8461 §3.2, HTTPS).'),
  metricsHTTP: service(8010, 'Prometheus metrics at /metrics over HTTP; keep it on an internal IP.'),
});

/** Services that only make sense with a certificate. */
export const tlsServices = ['submissions', 'imaps', 'accountHTTPS', 'adminHTTPS', 'webmailHTTPS', 'webapiHTTPS', 'autoconfigHTTPS', 'mtastsHTTPS'] as const;

const acmeProvider = z.strictObject({
  directoryURL: z.url({ protocol: /^https?$/ }).meta({ description: 'ACME directory URL (RFC 8555 §7.1.1).', example: 'https://acme-v02.api.letsencrypt.org/directory' }),
  contactEmail: z.email().meta({ description: 'Contact address registered with the ACME account (RFC 8555 §7.3).', example: 'admin@example.com' }),
  port: port.default(443).describe('Port where the tls-alpn-01 challenge is answered (RFC 8737); 443 unless a proxy forwards.'),
  externalAccountBinding: z
    .strictObject({ keyID: z.string().min(1), keyFile: z.string().min(1).describe('File with the base64url MAC key; relative to the config directory.') })
    .optional()
    .describe('External account binding, when the provider requires one (RFC 8555 §7.3.4).'),
  challengeTypes: z
    .array(z.enum(['tls-alpn-01', 'http-01']))
    .min(1)
    .default(['tls-alpn-01', 'http-01'])
    .describe('Challenge types to answer, most preferred first: tls-alpn-01 on port 443 (RFC 8737), http-01 on port 80 (RFC 8555 §8.3).'),
  directoryCAFile: z.string().min(1).optional().describe("PEM CA certificates trusted for the directory's HTTPS besides the system's; relative to the config directory. For test CAs such as pebble."),
});

const level = z.enum(levels as [string, ...string[]]);

const hostPort = z.strictObject({
  host: z.string().min(1).meta({ description: 'Host name or IP address.', example: 'smtp.relay.example' }),
  port: port.optional().describe('TCP port; default 587 for submission, 465 for submissions.'),
});

// Outbound transports (issue 5): how the queue reaches a recipient domain other than by its MX.
const transport = z.union([
  z.strictObject({
    smarthost: hostPort.extend({
      tls: z.enum(['starttls', 'implicit']).default('starttls').describe('STARTTLS on submission (RFC 6409, RFC 3207) or implicit TLS on submissions (RFC 8314 §3.3).'),
      username: z.string().min(1).optional().describe('AUTH username (RFC 4954); no AUTH when absent.'),
      passwordFile: z.string().min(1).optional().describe('File whose first line is the AUTH password; relative to the config directory.'),
      verifyTLS: z.boolean().default(true).describe('Verify the smarthost certificate (WebPKI, host name).'),
    }).describe('Deliver through a smarthost: an SMTP submission server that relays for us.'),
  }),
  z.strictObject({
    socks: z.strictObject({
      address: z.string().min(1).meta({ description: 'SOCKS5 proxy (RFC 1928) as host:port.', example: '127.0.0.1:1080' }),
      remoteIPs: z.array(z.string().refine((x) => isIP(x) !== 0, 'not an IP address')).default([]).describe('Our public IPs as seen by recipients through the proxy (for the EHLO name checks and logs).'),
      hostname: z.string().optional().describe('EHLO name to use through the proxy; default the top-level hostname.'),
    }).describe('Deliver to the MX hosts directly, but connect through a SOCKS5 proxy.'),
  }),
  z.strictObject({ direct: z.strictObject({}).describe('Deliver to the MX hosts directly (the default).') }),
]);

const route = z.strictObject({
  account: z.array(z.string()).default([]).describe('Accounts the route applies to; empty: all.'),
  fromDomain: z.array(z.string()).default([]).describe('Sender (MAIL FROM) domains; empty: all.'),
  toDomain: z.array(z.string()).default([]).describe('Recipient domains; empty: all.'),
  minimumAttempts: z.number().int().nonnegative().default(0).describe('Use this route only from this many failed attempts on (e.g. fall back to a smarthost).'),
  transport: z.string().min(1).meta({ description: 'Name of a transport in transports.', example: 'relay' }),
});

export const staticSchema = z.strictObject({
  dataDir: z.string().min(1).default('../data').describe('Directory for all data (accounts, queue, keys); relative to the directory of this file.'),
  hostname: z.string().meta({ description: 'Fully qualified host name of this machine: SMTP greeting, MX target, default TLS name.', example: 'mail.example.com' }),
  user: z.string().min(1).optional().meta({ description: 'Unix user to switch to after binding privileged ports, when started as root.', example: 'mailcove' }),
  logLevel: level.default('info').describe('Log level of all modules without their own.'),
  moduleLogLevels: z.record(z.string(), level.meta({ example: 'debug' })).default({}).meta({ description: 'Per-module log levels, e.g. smtpserver: debug.', keyExample: 'smtpserver' }),
  adminPasswordFile: z.string().min(1).optional().meta({ description: 'File holding the admin password hash; relative to the config directory.', example: 'adminpasswd' }),
  resolver: z
    .union([z.literal('none'), z.array(ipPort).min(1)])
    .optional()
    .meta({ description: "DNS servers (ip:port) to query, which should validate DNSSEC; 'none' for no DNS at all (hermetic); default: nameservers of /etc/resolv.conf.", example: ['127.0.0.1:53'] }),
  acme: z.record(z.string(), acmeProvider).default({}).meta({ description: 'ACME certificate providers by name, referenced from listener tls.acme.', keyExample: 'letsencrypt' }),
  limits: z
    .strictObject({
      maxMessageSize: z.number().int().positive().default(100 * 1024 * 1024).describe('Largest accepted message in bytes (SMTP SIZE, RFC 1870; IMAP APPENDLIMIT, RFC 7889).'),
      maxConnectionsPerIP: z.number().int().positive().default(100).describe('Concurrent connections from one IP, all services together.'),
      maxRecipients: z.number().int().min(100).default(1000).describe('Recipients per SMTP transaction (RFC 5321 §4.5.3.1.8 requires at least 100).'),
    })
    .default({ maxMessageSize: 100 * 1024 * 1024, maxConnectionsPerIP: 100, maxRecipients: 1000 })
    .describe('Resource limits.'),
  queue: z
    .strictObject({
      concurrency: z.number().int().positive().default(20).describe('Deliveries running at once (one connection per recipient domain at a time).'),
      maxAttempts: z.number().int().min(1).default(8).describe('Attempts before a recipient fails (with a failure DSN). Retries start 7.5 minutes after the first attempt and double.'),
      delayedDsnAfter: z.number().int().min(1).default(5).describe('Failed attempts after which the sender gets a delayed DSN (RFC 3464 action delayed), once.'),
      retiredDays: z.number().nonnegative().default(14).describe('Days delivered and failed messages stay in the retired history.'),
    })
    .default({ concurrency: 20, maxAttempts: 8, delayedDsnAfter: 5, retiredDays: 14 })
    .describe('Outbound queue.'),
  transports: z.record(z.string(), transport).default({}).meta({ description: 'Outbound transports by name, chosen by routes.', keyExample: 'relay' }),
  routes: z.array(route).default([]).describe('Which transport delivers a recipient; the first matching route wins, no match means direct delivery to the MX.'),
  listeners: z.record(z.string(), listenerSchema).meta({ description: 'Listeners by name: a set of IPs with the services served on them.', keyExample: 'public' }),
});

export type StaticConfig = z.output<typeof staticSchema>;
export type Listener = z.output<typeof listenerSchema>;
export type AcmeProvider = z.output<typeof acmeProvider>;
export type Transport = z.output<typeof transport>;
export type Route = z.output<typeof route>;
