// `mailcove sendmail`: the command row for the sendmail drop-in. Options are sendmail's
// single-letter flags (parseArgs takes `-t` and `-fADDR` for options named "t" and "f");
// the work is in src/sendmail.
import { createPublicKey } from 'node:crypto';
import { configEnv, defaultConfigPath, describeSubmitConfig, EX_CONFIG, EX_OK, EX_USAGE, loadSubmitConfig, maxInputBytes, SendmailError, sendmail } from '../sendmail/index.ts';
import { publicKeyFingerprint } from '../tls/index.ts';
import type { Command, OptionValues } from './command.ts';

const str = (o: OptionValues, k: string): string | undefined => (typeof o[k] === 'string' ? o[k] : undefined);
const list = (o: OptionValues, k: string): string[] => (Array.isArray(o[k]) ? o[k] : []);

/** -N: "never", or a list of success, delay, failure (RFC 3461 §4.1). */
function notify(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const words = v.toUpperCase().split(',').map((w) => w.trim());
  if ((words.length === 1 && words[0] === 'NEVER') || (words.length > 0 && words.every((w) => w === 'SUCCESS' || w === 'DELAY' || w === 'FAILURE'))) return words.join(',');
  throw new SendmailError(EX_USAGE, `-N ${v}: expected never, or a list of success, delay, failure`);
}

/** -R: full or hdrs (RFC 3461 §4.3). */
function ret(v: string | undefined): 'FULL' | 'HDRS' | undefined {
  if (v === undefined) return undefined;
  const u = v.toUpperCase();
  if (u === 'FULL' || u === 'HDRS') return u;
  throw new SendmailError(EX_USAGE, `-R ${v}: expected full or hdrs`);
}

/** -V: printable US-ASCII, at most 100 characters (RFC 3461 §4.4). */
function envid(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!/^[\x20-\x7e]{1,100}$/.test(v)) throw new SendmailError(EX_USAGE, `-V: an envelope id is 1 to 100 printable ASCII characters (RFC 3461 §4.4)`);
  return v;
}

export const sendmailCommand: Command = {
  name: 'sendmail',
  args: '[RECIPIENT...]',
  minArgs: 0,
  maxArgs: Number.MAX_SAFE_INTEGER,
  noShortHelp: true, // sendmail's -h is a hop count
  summary: 'Drop-in for /usr/sbin/sendmail: submit the message on standard input to the submission server of /etc/mailcovesubmit.conf, with a password or a TLS client certificate.',
  description: `Options are the sendmail flags, written with one dash as programs call sendmail: "sendmail -t -i", "-f sender@example.com" or "-fsender@example.com", "-oi". Recipients are the arguments and, with -t, also the addresses of the To, Cc and Bcc fields (as Postfix does; sendmail 8 would leave out the arguments). Bcc fields are always removed. A message without Date, Message-ID or From gets them (From is the configured address, with the -F name). Line ends (LF, CR, CRLF) become CRLF; all other bytes are sent as they are (8BITMIME, SMTPUTF8 when needed). SMTP carries lines of at most 998 bytes: a longer body line in a single text part (cron's output) makes the body quoted-printable; in a header or a multipart or already encoded message it is an error (exit 65). At most ${maxInputBytes / 1024 / 1024} MiB is read from standard input; more is an error (exit 65). Recipients without a domain (cron's "root") go to defaultDestination. -B, -b m, -m, -U and -o/-O options other than -oi are accepted and ignored.

To install: a script /usr/sbin/sendmail with the line: exec /path/to/mailcove sendmail "$@"

The config file is --config, else $${configEnv}, else ${defaultConfigPath}: YAML (key: value lines), readable by the users who may send. Its fields, with examples:

${describeSubmitConfig().trimEnd()}

Nothing is queued locally: when the server cannot be reached or refuses, the exit code and standard error say so. Exit codes (sysexits): 0 sent; 64 usage (no recipients, bad flag value or address); 65 message refused (by the server, or here: too large, long line, bad address in a header); 67 a recipient refused (the message went to the others); 69 server unusable (TLS or pin failure, missing extension); 70 internal error; 74 reading input failed; 75 temporary failure, try later; 76 SMTP protocol error; 77 login or sender refused; 78 config file wrong. Flags this command does not know are a usage error with exit code 2.`,
  options: {
    t: { type: 'boolean', description: 'also send to the To, Cc and Bcc addresses of the message' },
    i: { type: 'boolean', description: 'a line with only "." does not end the message (as -oi)' },
    f: { type: 'string', valueName: 'ADDRESS', description: 'envelope sender, "<>" for none (default: from of the config file)' },
    r: { type: 'string', valueName: 'ADDRESS', description: 'obsolete name of -f' },
    F: { type: 'string', valueName: 'NAME', description: 'display name for the From field added to a message without one' },
    N: { type: 'string', valueName: 'DSN', description: 'delivery status notifications: never, or a list of success, delay, failure (RFC 3461)' },
    R: { type: 'string', valueName: 'RET', description: 'return the full message or only its headers in a DSN: full or hdrs' },
    V: { type: 'string', valueName: 'ENVID', description: 'envelope id for DSNs' },
    v: { type: 'boolean', description: 'print the connection, login and reply on standard error' },
    o: { type: 'string', valueName: 'OPTION', multiple: true, description: 'sendmail option: -oi as -i, others ignored' },
    O: { type: 'string', valueName: 'OPTION=VALUE', multiple: true, description: 'ignored' },
    B: { type: 'string', valueName: 'BODYTYPE', description: 'ignored: 8-bit content is detected' },
    b: { type: 'string', valueName: 'MODE', description: 'm (deliver) only' },
    m: { type: 'boolean', description: 'ignored' },
    U: { type: 'boolean', description: 'ignored' },
    config: { type: 'string', valueName: 'PATH', description: `submit config file (default: $${configEnv} or ${defaultConfigPath})` },
    'show-certificate': { type: 'boolean', description: "print the client certificate's PEM (made for an ed25519 key alone) for `mailcove config tlspubkey add`; sends nothing" },
  },
  run: async ({ args, options, stdin, stderr, stdout }) => {
    const report = (line: string) => void stderr.write(`mailcove sendmail: ${line}\n`);
    const configPath = str(options, 'config') ?? (process.env[configEnv] || defaultConfigPath);
    try {
      if (options['show-certificate']) {
        const cfg = await loadSubmitConfig(configPath);
        if (!cfg.clientCert) throw new SendmailError(EX_CONFIG, `${configPath}: no clientCertFile`);
        stdout.write(cfg.clientCert.certPEM);
        report(`public key fingerprint: ${publicKeyFingerprint(createPublicKey(cfg.clientCert.key))}`);
        return EX_OK;
      }
      const mode = str(options, 'b');
      if (mode !== undefined && mode !== 'm') throw new SendmailError(EX_USAGE, `-b${mode}: only -bm (deliver a message) is supported`);
      const sender = str(options, 'f') ?? str(options, 'r');
      const fullName = str(options, 'F');
      const n = notify(str(options, 'N'));
      const r = ret(str(options, 'R'));
      const envelopeId = envid(str(options, 'V'));
      return await sendmail({
        configPath,
        recipients: args,
        extractRecipients: options['t'] === true,
        ignoreDots: options['i'] === true || list(options, 'o').includes('i'),
        verbose: options['v'] === true,
        ...(sender !== undefined ? { sender } : {}),
        ...(fullName !== undefined ? { fullName } : {}),
        ...(n !== undefined ? { notify: n } : {}),
        ...(r !== undefined ? { ret: r } : {}),
        ...(envelopeId !== undefined ? { envid: envelopeId } : {}),
        input: stdin as AsyncIterable<Buffer | string>,
        stderr: report,
      });
    } catch (e) {
      if (!(e instanceof SendmailError)) throw e;
      report(e.message);
      return e.exitCode;
    }
  },
};
