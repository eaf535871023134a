// Schema of domains.conf, the dynamic configuration: domains, accounts with their
// addresses, aliases, DKIM selectors. Reloaded while running; the admin UI and CLI edit it.
// Names as written in the file are normalised here (see names.ts) after validation.
import { z } from 'zod';

const regexp = z.string().refine((s) => {
  try {
    new RegExp(s, 'u');
    return true;
  } catch {
    return false;
  }
}, 'invalid regular expression');

const dkimSelector = z.strictObject({
  hash: z.enum(['sha256']).default('sha256').describe('Hash algorithm; sha1 is not used for signing (RFC 8301 §3.1).'),
  canonicalization: z.enum(['relaxed/relaxed', 'relaxed/simple', 'simple/relaxed', 'simple/simple']).default('relaxed/relaxed').describe('Header/body canonicalization (RFC 6376 §3.4).'),
  headers: z.array(z.string().regex(/^[!-9;-~]+$/, 'invalid header field name')).min(1).optional().describe('Header fields to sign; default: a recommended set including From (RFC 6376 §5.4.1).'), // RFC 5322 §3.6.8 ftext
  dontSealHeaders: z.boolean().default(false).describe('Do not add each signed header name an extra time (which prevents adding such a header later).'),
  expirationSeconds: z.number().int().positive().optional().describe('Signature lifetime: x= tag (RFC 6376 §3.5).'),
  privateKeyFile: z.string().min(1).meta({ description: 'PEM private key (RSA or ed25519, RFC 8463); relative to the config directory.', example: 'dkim/2026a.rsa.privatekey.pkcs8.pem' }),
});

const reportDestination = (what: string) =>
  z
    .strictObject({
      localpart: z.string().min(1).meta({ description: 'Localpart of the reporting address at this domain.', example: what === 'DMARC' ? 'dmarc-reports' : 'tls-reports' }),
      account: z.string().min(1).meta({ description: 'Account the reports are delivered to.', example: 'mjl' }),
      mailbox: z.string().min(1).meta({ description: 'Mailbox the reports are delivered to.', example: what === 'DMARC' ? 'DMARC' : 'TLSRPT' }),
    })
    .describe(`Accept ${what} reports at localpart@domain, to be published in DNS.`);

export const domainSchema = z.strictObject({
  description: z.string().optional().describe('Free text for the admin.'),
  localpartCatchallSeparator: z.union([z.string().min(1), z.array(z.string().min(1))]).optional().meta({ description: "Sub-addressing separator(s) (RFC 5233): 'mjl+anything' is delivered as 'mjl' when a separator is '+'. One string or a list; default '+'. An empty list turns sub-addressing off.", example: ['+', '-'] }),
  localpartCaseSensitive: z.boolean().default(false).describe('Treat localparts as case-sensitive; by default they are compared lowercased.'),
  dkim: z
    .strictObject({
      selectors: z.record(z.string(), dkimSelector).default({}).meta({ description: 'DKIM selectors by name (the s= tag, RFC 6376 §3.1).', keyExample: '2026a' }),
      sign: z.array(z.string()).default([]).meta({ description: 'Selectors to sign outgoing messages with.', example: ['2026a'] }),
    })
    .optional()
    .describe('DKIM signing of outgoing messages (RFC 6376).'),
  dmarc: reportDestination('DMARC').optional(),
  mtaSts: z
    .strictObject({
      policyID: z.string().regex(/^[A-Za-z0-9]{1,32}$/, '1 to 32 letters and digits').meta({ description: 'id= of the _mta-sts TXT record; change it when the policy changes (RFC 8461 §3.1).', example: '20260101T000000' }),
      mode: z.enum(['enforce', 'testing', 'none']).describe('Policy mode (RFC 8461 §5).'),
      mx: z.array(z.string()).default([]).meta({ description: 'Allowed MX host patterns in addition to the hostname, e.g. *.example.com (RFC 8461 §3.2).', example: [] }),
      maxAgeSeconds: z.number().int().min(1).max(31557600).default(86400).describe('Policy max_age in seconds (RFC 8461 §3.2: at most 31557600).'),
    })
    .optional()
    .describe('MTA-STS policy served for this domain (RFC 8461).'),
  tlsRpt: reportDestination('TLS').optional(),
});

const ruleset = z.strictObject({
  smtpMailFromRegexp: regexp.optional().describe('Matches the SMTP MAIL FROM address.'),
  msgFromRegexp: regexp.optional().describe('Matches the message From address.'),
  verifiedDomain: z.string().optional().describe('Matches when SPF or DKIM verified this domain (or a subdomain).'),
  headersRegexp: z.record(regexp, regexp).optional().describe('Header field name regexp -> value regexp; all must match.'),
  listAllowDomain: z.string().optional().describe('For mailing lists: skip junk filtering for messages verified from this domain.'),
  acceptRejectsToMailbox: z.string().optional().describe('Deliver messages that would be rejected as junk to this mailbox instead.'),
  mailbox: z.string().min(1).describe('Mailbox to deliver to when the ruleset matches.'),
});

const destination = z.strictObject({
  mailbox: z.string().min(1).optional().describe('Mailbox for messages to this address; default Inbox.'),
  rulesets: z.array(ruleset).default([]).describe('Evaluated in order; the first match chooses the mailbox.'),
  fullName: z.string().optional().describe('Display name for mail sent from this address; default: the account fullName.'),
});

export const accountSchema = z.strictObject({
  domain: z.string().meta({ description: 'Default domain: bare localparts in destinations are at this domain.', example: 'example.com' }),
  description: z.string().optional().describe('Free text for the admin.'),
  fullName: z.string().optional().describe('Display name for sent messages.'),
  destinations: z
    .record(z.string(), destination)
    .refine((d) => Object.keys(d).length > 0, 'an account needs at least one address')
    .meta({ description: "Addresses delivered to this account: 'local@domain', a bare localpart at the account's domain, or '@domain' for all otherwise unknown localparts (catch-all).", keyExample: 'mjl@example.com' }),
  quotaBytes: z.number().int().nonnegative().optional().describe('Maximum total message size stored; 0 or absent: no limit.'),
  loginDisabled: z.string().min(1).optional().describe('When set, logins fail and this message is shown; mail is still delivered.'),
  maxOutgoingMessagesPerDay: z.number().int().positive().default(1000).describe('Submission limit over a rolling 24 hours.'),
  maxFirstTimeRecipientsPerDay: z.number().int().positive().default(200).describe('Limit on recipients never sent to before, over a rolling 24 hours.'),
  uniqueMailFromId: z.boolean().default(false).describe("Send with a unique MAIL FROM per message (localpart, the domain's first catch-all separator, an id), so returning DSNs are matched to the retired message."),
});

export const aliasSchema = z.strictObject({
  members: z.array(z.string()).min(1).meta({ description: 'Addresses of local accounts receiving the messages.', example: ['mjl@example.com'] }),
  postPublic: z.boolean().default(false).describe('Anyone may send to the alias; by default only members.'),
  listMembers: z.boolean().default(false).describe('Members can see the other members.'),
  allowMsgFrom: z.boolean().default(false).describe('Members may send with the alias as From address.'),
});

export const domainsSchema = z.strictObject({
  domains: z.record(z.string(), domainSchema).default({}).meta({ description: 'Domains by name (A-label or U-label, stored as lowercase U-label).', keyExample: 'example.com' }),
  accounts: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'account names are 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit'), accountSchema).default({}).meta({ description: 'Accounts by name (the login name and the data directory name).', keyExample: 'mjl' }),
  aliases: z.record(z.string(), aliasSchema).default({}).meta({ description: 'Aliases and lists by address: messages go to every member.', keyExample: 'team@example.com' }),
});

/** The sub-addressing separators of a domain (RFC 5233): '+' unless configured. */
export function catchallSeparators(d: Domain): string[] {
  const s = d.localpartCatchallSeparator;
  return s === undefined ? ['+'] : typeof s === 'string' ? [s] : s;
}

export type DomainsFile = z.output<typeof domainsSchema>; // as written, before names are normalised
export type Domain = z.output<typeof domainSchema>;
export type Account = z.output<typeof accountSchema>;
export type Destination = z.output<typeof destination>;
export type Ruleset = z.output<typeof ruleset>;
export type Alias = z.output<typeof aliasSchema>;
export type DkimSelector = z.output<typeof dkimSelector>;

/** domains.conf after validation: every domain, address and member in canonical form. */
export interface DomainsConfig {
  domains: Record<string, Domain>; // key: lowercase U-label
  accounts: Record<string, Account>; // account.domain canonical; destinations keyed 'localpart@domain' or '@domain' (catch-all)
  aliases: Record<string, Alias>; // key and members: canonical 'localpart@domain'
}
