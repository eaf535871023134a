// The submit config of `mailcove sendmail` (default /etc/mailcovesubmit.conf): where to
// submit, how to protect and log in to that connection, and the default sender. YAML,
// so plain `key: value` lines; checked with a zod schema that also generates its docs.
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, isAbsolute, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { normalizePassword } from '../sasl/index.ts';
import { loadClientCertificate, type ClientCertificate } from './clientcert.ts';
import { addressesOf } from './message.ts';
import { EX_CONFIG, SendmailError } from './sysexits.ts';

export const defaultConfigPath = '/etc/mailcovesubmit.conf';
export const configEnv = 'MAILCOVESUBMIT_CONF';

const hostPort = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s\[\]]+))(?::(\d{1,5}))?$/; // host, [ipv6], with an optional :port

const submitSchema = z.strictObject({
  submission: z.string().regex(hostPort, 'must be host or host:port ([ipv6]:port quoted)').meta({ description: 'The submission server: host or host:port. Port default: 465 for tls submissions, 587 otherwise.', example: 'mail.example.com:465' }),
  tls: z.enum(['submissions', 'starttls', 'none']).default('submissions').describe('submissions: TLS from the start (RFC 8314); starttls: STARTTLS on the submission port (RFC 3207); none: no TLS, only to a loopback address (for tests and localserve).'),
  from: z.string().min(3).includes('@').meta({ description: 'Default envelope sender (-f overrides it), also the From header added when the message has none.', example: 'mjl@example.com' }),
  username: z.string().min(1).optional().meta({ description: 'Login name for password authentication (SCRAM-SHA-256, else PLAIN); default: from.', example: 'mjl@example.com' }),
  password: z.string().min(1).optional().meta({ description: 'Password. One of password, passwordFile and clientCertFile is needed; passwordFile keeps the password out of this file.', example: 'correct horse battery staple' }),
  passwordFile: z.string().min(1).optional().meta({ description: 'File with the password on its first line; relative to this file.', example: 'submit.password' }),
  clientCertFile: z.string().min(1).optional().meta({ description: 'TLS client certificate to log in with (SASL EXTERNAL) instead of a password: a PEM file with the private key and its certificate, or an ed25519 private key alone. Relative to this file.', example: 'client.pem' }),
  tlsCAFile: z.string().min(1).optional().meta({ description: "PEM certificates to trust for the server's certificate instead of the system's CAs (a self-signed certificate works). Relative to this file.", example: 'ca.pem' }),
  tlsPublicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'must be base64url of a SHA-256 hash (43 characters)').optional().meta({ description: "Pin of the server's TLS public key: base64url SHA-256 of its SubjectPublicKeyInfo (as `mailcove config tlspubkey` shows keys). When set, only this key is accepted, and names, CAs and dates are not checked. A wrong pin's error shows the server's.", example: 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg' }),
  tlsServerName: z.string().min(1).optional().meta({ description: 'Name to verify the certificate for (and send as SNI); default: the host of submission.', example: 'mail.example.com' }),
  defaultDestination: z.string().includes('@').optional().meta({ description: 'Where mail to a recipient without a domain goes (cron mails "root"); without it such recipients are refused.', example: 'admin@example.com' }),
  ehloName: z.string().regex(/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/).optional().meta({ description: "Name to send in EHLO; default: this machine's host name.", example: 'host.example.com' }),
});

/** What sendmail needs from the config file, with the files it names read. */
export interface SubmitConfig {
  path: string; // of the config file, for messages
  host: string;
  port: number;
  tls: 'submissions' | 'starttls' | 'none';
  from: string;
  username: string;
  password: string | undefined;
  clientCert: ClientCertificate | undefined;
  ca: Buffer | undefined; // trust anchors, PEM
  pin: string | undefined; // base64url SHA-256 of the server's SPKI
  serverName: string | undefined; // for certificate name checks and SNI; undefined: check the IP address
  defaultDestination: string | undefined;
  ehloName: string | undefined;
}

function configError(path: string, message: string): SendmailError {
  return new SendmailError(EX_CONFIG, `${path}: ${message}`);
}

async function readConfigFile(path: string, file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw configError(path, `reading ${what} ${file}: ${(e as Error).message}`);
  }
}

/** Reads and checks the config file and the files it names; every problem is EX_CONFIG. */
export async function loadSubmitConfig(path: string): Promise<SubmitConfig> {
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (e) {
    throw configError(path, `cannot read the submit config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); another file is chosen with --config or $${configEnv}`);
  }
  let doc: unknown;
  try {
    doc = parse(text.toString('utf8'));
  } catch (e) {
    throw configError(path, `not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = submitSchema.safeParse(doc ?? {});
  if (!r.success) throw configError(path, r.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; '));
  const c = r.data;
  const m = hostPort.exec(c.submission)!;
  const host = m[1] ?? m[2]!;
  const port = m[3] !== undefined ? Number(m[3]) : c.tls === 'submissions' ? 465 : 587; // RFC 8314 §7.3: 465; RFC 6409 §3.1: 587
  if (port < 1 || port > 65535) throw configError(path, `submission: port ${port} out of range`);
  if (c.tls === 'none' && !isLoopbackHost(host)) throw configError(path, 'tls: none is only allowed to a loopback address (127.0.0.1, ::1, localhost)');
  if (c.password !== undefined && c.passwordFile !== undefined) throw configError(path, 'password and passwordFile: give one');
  const relative = (p: string) => (isAbsolute(p) ? p : join(dirname(path), p));
  let password = c.password;
  if (c.passwordFile !== undefined) {
    password = (await readConfigFile(path, relative(c.passwordFile), 'passwordFile')).toString('utf8').split(/\r?\n/)[0];
    if (!password) throw configError(path, `passwordFile ${c.passwordFile} is empty`);
  }
  let clientCert: ClientCertificate | undefined;
  if (c.clientCertFile !== undefined) {
    const file = relative(c.clientCertFile);
    try {
      clientCert = await loadClientCertificate(await readConfigFile(path, file, 'clientCertFile'), c.username ?? c.from);
    } catch (e) {
      if (e instanceof SendmailError) throw e;
      throw configError(path, `clientCertFile ${file}: ${(e as Error).message}`);
    }
  }
  if (password === undefined && clientCert === undefined) throw configError(path, 'no credentials: set password, passwordFile or clientCertFile');
  if (password !== undefined) {
    try {
      normalizePassword(password); // RFC 5802 §5.1: SASLprep, as SCRAM will
    } catch (e) {
      throw configError(path, `${c.passwordFile !== undefined ? 'passwordFile' : 'password'}: ${(e as Error).message}`);
    }
  }
  const from = configAddress(path, 'from', c.from);
  if (c.tls === 'none' && clientCert) throw configError(path, 'clientCertFile needs TLS (tls: submissions or starttls)');
  return {
    path, host, port, tls: c.tls, from, username: c.username ?? c.from, password, clientCert,
    ca: c.tlsCAFile !== undefined ? await readConfigFile(path, relative(c.tlsCAFile), 'tlsCAFile') : undefined,
    pin: c.tlsPublicKey,
    serverName: c.tlsServerName ?? (isIP(host) ? undefined : host),
    defaultDestination: c.defaultDestination !== undefined ? configAddress(path, 'defaultDestination', c.defaultDestination) : undefined,
    ehloName: c.ehloName,
  };
}

/** One address with a domain, as MAIL FROM and RCPT TO will carry it; a config problem otherwise. */
function configAddress(path: string, key: string, value: string): string {
  let a: string[];
  try {
    a = addressesOf(value);
  } catch (e) {
    throw configError(path, `${key}: ${(e as Error).message}`);
  }
  if (a.length !== 1 || !a[0]!.includes('@')) throw configError(path, `${key}: must be one address, local@domain`);
  return a[0]!;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

interface FieldSchema { description?: string; example?: unknown; default?: unknown; enum?: unknown[] }

/** An annotated example config, generated from the schema (for `mailcove sendmail --help`). */
export function describeSubmitConfig(): string {
  const json = z.toJSONSchema(submitSchema, { io: 'input' }) as { properties: Record<string, FieldSchema>; required?: string[] };
  const out: string[] = [];
  for (const [key, f] of Object.entries(json.properties)) {
    const value = f.example ?? f.default ?? f.enum?.[0] ?? '';
    const note = json.required?.includes(key) ? 'required' : f.default !== undefined ? `default: ${String(f.default)}` : 'optional';
    out.push(`# ${f.description ?? ''} (${note})`, `${key}: ${stringify(value).trimEnd()}`);
  }
  return out.join('\n') + '\n';
}
