// The command table: every `mailcove` subcommand, its options and its handler. Help
// output and the README's CLI reference are generated from it.
import { CommandError, UsageError, commandHelp, synopsis, type Command, type OptionSpec, type OptionValues } from './command.ts';
import { version } from './version.ts';
import { readNewPassword } from './password.ts';
import { localserve, localserveDefaults } from './localserve.ts';
import { serve, stopServer } from './serve.ts';
import { quickstart } from './quickstart.ts';
import { loadConfig, checkConfig, describeConfig, addAccount, removeAccount, formatProblem, type Config } from '../config/index.ts';
import { dirname } from 'node:path';
import { openStore, verifyData, type Store } from '../store/index.ts';
import { deriveCredentials, setAdminPassword, PasswordError } from '../sasl/index.ts';
import { generateDkim } from './dkim.ts';
import { accountOfLogin, addTlsPublicKey, formatTlsPublicKeys, generateTlsPublicKey, readCertificate } from './tlspubkey.ts';
import * as queue from './queue.ts';
import { dnsCommands } from './dnsrecords.ts';
import { domainCommands } from './domainsconf.ts';
import { sendmailCommand } from './sendmail.ts';

const configOption: Record<string, OptionSpec> = {
  config: { type: 'string', valueName: 'PATH', description: 'mailcove.conf to use; domains.conf is read from the same directory (default: $MAILCOVE_CONFIG or config/mailcove.conf)' },
  dir: { type: 'string', valueName: 'DIR', description: "a localserve directory instead of --config: uses DIR/config/mailcove.conf" },
};

/** The config file a command uses: --config, --dir (localserve), $MAILCOVE_CONFIG, or ./config/mailcove.conf. */
export function configPath(o: OptionValues): string {
  if (typeof o['config'] === 'string' && typeof o['dir'] === 'string') throw new UsageError('use --config or --dir, not both');
  if (typeof o['config'] === 'string') return o['config'];
  if (typeof o['dir'] === 'string') return `${o['dir']}/config/mailcove.conf`;
  return process.env['MAILCOVE_CONFIG'] || 'config/mailcove.conf';
}

async function loadOrExplain(o: OptionValues): Promise<Config> {
  const path = configPath(o);
  try {
    return await loadConfig(path);
  } catch (e) {
    throw new CommandError(e instanceof Error ? e.message : String(e));
  }
}

/** Runs fn with the store of the config's data directory open, and closes it. */
async function withStore<T>(config: Config, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(config.paths.dataDir);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const tlsPubKeyOptions: Record<string, OptionSpec> = {
  name: { type: 'string', valueName: 'NAME', description: "a name for the key, e.g. the device (default: the certificate's CN)" },
  'no-imap-preauth': { type: 'boolean', description: 'IMAP over implicit TLS with this key does not log in at once (no PREAUTH); the client authenticates itself' },
};

function keyOptions(o: OptionValues): { name?: string; noIMAPPreauth: boolean } {
  return { ...(typeof o['name'] === 'string' ? { name: o['name'] } : {}), noIMAPPreauth: o['no-imap-preauth'] === true };
}

export const commands: Command[] = [
  {
    name: 'localserve',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'Run a local mail server for development and testing: loopback only, no configuration needed.',
    description: `Creates DIR (its config in DIR/config, its data in DIR/data) with the domain "localhost" and the account "mailcove" (address mailcove@localhost, password "mailcovemailcove"), then serves until SIGINT or SIGTERM. Services listen on IP at the base port plus: 25 SMTP, 587 submission, 465 submissions, 143 IMAP, 993 IMAPS, 80 HTTP, 443 HTTPS, 81 metrics. It sends no DNS queries and opens no outside connections unless --resolver is given.`,
    options: {
      dir: { type: 'string', valueName: 'DIR', default: localserveDefaults.dir, description: 'directory for config and data' },
      ip: { type: 'string', valueName: 'IP', default: localserveDefaults.ip, description: 'address to listen on' },
      'base-port': { type: 'string', valueName: 'N', default: String(localserveDefaults.basePort), description: 'ports are N plus the standard port of each service (N+25 for SMTP...)' },
      resolver: { type: 'string', valueName: 'IP:PORT', description: 'DNS resolver for mail checks (default: none, the server stays hermetic)' },
    },
    run: async ({ options, stdout }) => {
      const basePort = Number(options['base-port']);
      if (!Number.isInteger(basePort) || basePort < 0 || basePort + 993 > 65535) throw new UsageError('--base-port must be a whole number from 0 to 64542');
      await localserve({ dir: String(options['dir']), ip: String(options['ip']), basePort, resolver: typeof options['resolver'] === 'string' ? options['resolver'] : undefined, out: stdout });
    },
  },
  {
    name: 'serve',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'Run the mail server from its configuration: SMTP, IMAP, the web pages, the queue and metrics.',
    description: 'Starts every listener of mailcove.conf and serves the domains and accounts of domains.conf (reloaded when it changes) until SIGTERM, SIGINT or `mailcove stop`. Started as root with "user" set in mailcove.conf, it binds its ports and then runs as that user, owning the data directory. On stop, listeners close first, deliveries in progress get a grace period (what is not finished is delivered again after the restart), then the store closes: nothing acknowledged is lost.',
    options: { config: configOption['config']! },
    run: async ({ options, stdout }) => {
      await serve({ config: await loadOrExplain(options), out: stdout });
    },
  },
  {
    name: 'quickstart',
    args: 'ADDRESS',
    minArgs: 1,
    maxArgs: 1,
    summary: 'Write the config for a new mail server for the domain of ADDRESS, with ADDRESS as its first account, and print what to do next.',
    description: 'Writes config/mailcove.conf and config/domains.conf in the current directory (data in data/; an existing config is never overwritten): the account (named after the localpart) and the admin password, generated and printed once; DKIM keys (two RSA-2048 selectors named after the year, a signing and b for rotation, and an ed25519 one signing too); sub-addressing with "+"; DMARC and TLS reports delivered to the mailboxes DMARC and TLSRPT; an MTA-STS policy; certificates from ACME (Let\'s Encrypt). Prints the DNS records to create, a systemd unit and the next commands. First checks that outgoing connections to port 25 work (--skip-dial skips that).',
    options: {
      hostname: { type: 'string', valueName: 'HOST', description: 'host name of this machine (default: mail.DOMAIN)' },
      'existing-webserver': { type: 'boolean', description: 'another web server keeps ports 80 and 443: certificates come from its ACME client (Let\'s Encrypt files), the account page listens on 127.0.0.1:1080 behind it' },
      'skip-dial': { type: 'boolean', description: 'do not check outgoing connections to port 25' },
      user: { type: 'string', valueName: 'USER', default: 'mailcove', description: 'unix user the server runs as after binding its ports' },
      'acme-directory': { type: 'string', valueName: 'URL', description: "ACME directory URL (default: Let's Encrypt)" },
    },
    run: async ({ args, options, stdout }) => {
      await quickstart({
        address: args[0]!, hostname: typeof options['hostname'] === 'string' ? options['hostname'] : undefined, existingWebserver: options['existing-webserver'] === true,
        skipDial: options['skip-dial'] === true, user: String(options['user']), dir: '.', out: stdout, acmeDirectory: typeof options['acme-directory'] === 'string' ? options['acme-directory'] : undefined,
      });
    },
  },
  {
    name: 'stop',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'Stop the running server (serve or localserve) gracefully, and wait until it has stopped.',
    description: 'Asks the server through its control socket in the data directory and returns when the server has closed everything.',
    options: configOption,
    run: async ({ options, stdout }) => {
      await stopServer(await loadOrExplain(options), stdout);
    },
  },
  {
    name: 'config test',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'Check mailcove.conf and domains.conf: syntax, types, unknown keys and references.',
    options: { ...configOption },
    run: async ({ options, stdout, stderr }) => {
      const problems = await checkConfig(configPath(options));
      if (problems.length === 0) {
        stdout.write('config OK\n');
        return 0;
      }
      for (const p of problems) stderr.write(formatProblem(p) + '\n');
      return 1;
    },
  },
  {
    name: 'config describe',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'Print annotated example mailcove.conf and domains.conf, generated from the schemas.',
    options: {},
    run: async ({ stdout }) => {
      stdout.write(describeConfig());
    },
  },
  {
    name: 'config account add',
    args: 'ACCOUNT ADDRESS',
    minArgs: 2,
    maxArgs: 2,
    summary: 'Add an account with one address to domains.conf and create its mailboxes; set a password with setaccountpassword.',
    options: { ...configOption },
    run: async ({ args, options, stdout }) => {
      const [name, address] = args as [string, string];
      const config = await loadOrExplain(options);
      await addAccount(config, { name, address });
      await withStore(config, async (store) => {
        if (!(await store.listAccounts()).includes(name)) await store.createAccount(name);
      });
      stdout.write(`account ${name} added with address ${address}\n`);
    },
  },
  {
    name: 'config account rm',
    args: 'ACCOUNT',
    minArgs: 1,
    maxArgs: 1,
    summary: "Remove an account from domains.conf and delete its messages and credentials.",
    options: { ...configOption },
    run: async ({ args, options, stdout }) => {
      const [name] = args as [string];
      const config = await loadOrExplain(options);
      await removeAccount(config, name);
      await withStore(config, async (store) => {
        if ((await store.listAccounts()).includes(name)) await store.removeAccount(name);
        await store.auth.removeLogins(name);
      });
      stdout.write(`account ${name} removed\n`);
    },
  },
  {
    name: 'config account list',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'List the accounts with their addresses.',
    options: { ...configOption },
    run: async ({ options, stdout }) => {
      const config = await loadOrExplain(options);
      for (const [name, acc] of Object.entries(config.domains.accounts)) stdout.write(`${name}\t${Object.keys(acc.destinations).join(' ')}\n`);
    },
  },
  ...domainCommands({ options: configOption, load: loadOrExplain }),
  {
    name: 'config tlspubkey add',
    args: 'LOGINADDRESS CERTFILE',
    minArgs: 2,
    maxArgs: 2,
    summary: "Register a TLS client certificate's public key to log in as LOGINADDRESS (SASL EXTERNAL); prints its fingerprint.",
    description: 'CERTFILE is a PEM or DER certificate; only its public key is used (names, dates and issuer are not checked). The address must be an address of an account in domains.conf.',
    options: { ...configOption, ...tlsPubKeyOptions },
    run: async ({ args, options, stdout }) => {
      const [address, certFile] = args as [string, string];
      const config = await loadOrExplain(options);
      const cert = await readCertificate(certFile);
      const k = await withStore(config, (store) => addTlsPublicKey(config, store, address, cert, keyOptions(options)));
      stdout.write(`${k.fingerprint}\n`);
    },
  },
  {
    name: 'config tlspubkey rm',
    args: 'FINGERPRINT',
    minArgs: 1,
    maxArgs: 1,
    summary: 'Remove a TLS public key.',
    options: { ...configOption },
    run: async ({ args, options, stdout }) => {
      const config = await loadOrExplain(options);
      await withStore(config, (store) => store.auth.removeTlsPublicKey(args[0]!));
      stdout.write(`TLS public key ${args[0]} removed\n`);
    },
  },
  {
    name: 'config tlspubkey list',
    args: '[ACCOUNT]',
    minArgs: 0,
    maxArgs: 1,
    summary: 'List TLS public keys, of all accounts or one: fingerprint, account, login address, IMAP preauth, name.',
    options: { ...configOption },
    run: async ({ args, options, stdout }) => {
      const config = await loadOrExplain(options);
      stdout.write(formatTlsPublicKeys(await withStore(config, (store) => store.auth.listTlsPublicKeys(args[0]))));
    },
  },
  {
    name: 'config tlspubkey gen',
    args: 'LOGINADDRESS OUTPREFIX',
    minArgs: 2,
    maxArgs: 2,
    summary: 'Make a key and self-signed client certificate for LOGINADDRESS: OUTPREFIX.key.pem, .crt.pem and .p12 (for mail clients); --add registers it.',
    description: 'The key is ECDSA P-256; the certificate has CN = LOGINADDRESS and is valid for 10 years. The .p12 file (PKCS #12: key and certificate) is protected by a random password printed on standard output; the .key.pem and .p12 files are written with mode 0600. Existing files are not overwritten.',
    options: { ...configOption, ...tlsPubKeyOptions, add: { type: 'boolean', description: 'also register the public key (as config tlspubkey add does)' } },
    run: async ({ args, options, stdout }) => {
      const [address, prefix] = args as [string, string];
      const config = options['add'] ? await loadOrExplain(options) : undefined;
      if (config) accountOfLogin(config, address); // fail before writing files
      const g = await generateTlsPublicKey(address, prefix);
      if (config) await withStore(config, (store) => addTlsPublicKey(config, store, address, g.cert, keyOptions(options)));
      stdout.write(`fingerprint: ${g.fingerprint}${config ? ' (added)' : ''}\np12 password: ${g.password}\nfiles: ${g.files.join(' ')}\n`);
    },
  },
  {
    name: 'config dkim gen',
    args: 'DOMAIN SELECTOR',
    minArgs: 2,
    maxArgs: 2,
    summary: 'Make a DKIM signing key for DOMAIN, add it to domains.conf as a signing selector, and print the DNS TXT record to publish.',
    description: 'The private key is written to <configdir>/dkim/SELECTOR.DOMAIN.KIND.privatekey.pkcs8.pem (mode 0600); outgoing messages are signed with it once domains.conf has it (live, no restart). Publish the printed record before mail goes out. RSA keys of 2048 bits are the default; ed25519 (RFC 8463) is smaller, but not every receiver verifies it yet, so sign with both.',
    options: { ...configOption, kind: { type: 'string', valueName: 'rsa|ed25519', description: 'key type (default rsa)' }, bits: { type: 'string', valueName: 'N', description: 'RSA key size (default 2048)' } },
    run: async ({ args, options, stdout }) => {
      const [domain, selector] = args as [string, string];
      const kind = options['kind'] ?? 'rsa';
      if (kind !== 'rsa' && kind !== 'ed25519') throw new UsageError('--kind must be rsa or ed25519');
      const bits = Number(options['bits'] ?? 2048);
      if (!Number.isInteger(bits) || bits < 1024 || bits > 8192) throw new UsageError('--bits must be 1024 to 8192'); // RFC 8301 §3.2: at least 1024
      const config = await loadOrExplain(options);
      const g = await generateDkim(config, domain, selector, kind, bits);
      stdout.write(`key: ${g.file}\npublish in DNS:\n${g.record}\n`);
    },
  },
  ...dnsCommands({ options: configOption, load: loadOrExplain }),
  {
    name: 'queue list',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'List the outbound queue, one line per recipient: id, sender, recipient, attempts, next attempt, held, last error; with --id also every attempt.',
    description: queue.queueFilterHelp,
    options: { ...configOption, ...queue.queueFilterOptions, ...queue.queueHeldOptions },
    run: async (ctx) => queue.queueList(await loadOrExplain(ctx.options), ctx),
  },
  {
    name: 'queue hold',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'Hold matching queue entries: no delivery attempts until released. Prints how many were held.',
    description: queue.queueFilterHelp,
    options: { ...configOption, ...queue.queueFilterOptions },
    run: async (ctx) => queue.queueHold(await loadOrExplain(ctx.options), ctx),
  },
  {
    name: 'queue release',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'Release held queue entries; they are delivered at their next attempt time. Prints how many were released.',
    description: `Entries held by a hold rule are released too; the rule does not hold them again. ${queue.queueFilterHelp}`,
    options: { ...configOption, ...queue.queueFilterOptions },
    run: async (ctx) => queue.queueRelease(await loadOrExplain(ctx.options), ctx),
  },
  {
    name: 'queue schedule',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'Set the next attempt of matching entries: now, at --at TIME, or moved by --in DURATION. Prints how many were scheduled.',
    description: `Held entries stay held: release them to have them delivered. ${queue.queueFilterHelp}`,
    options: { ...configOption, ...queue.queueFilterOptions, ...queue.queueHeldOptions, ...queue.queueScheduleOptions },
    run: async (ctx) => queue.queueSchedule(await loadOrExplain(ctx.options), ctx),
  },
  {
    name: 'queue fail',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'Fail matching entries now, as after their last attempt: failure DSN to the sender, kept in the retired history. Needs a filter or --all.',
    description: queue.queueFilterHelp,
    options: { ...configOption, ...queue.queueFilterOptions, ...queue.queueHeldOptions, ...queue.queueAllOption },
    run: async (ctx) => queue.queueFail(await loadOrExplain(ctx.options), ctx),
  },
  {
    name: 'queue drop',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'Remove matching entries without DSN and without history. Needs a filter or --all.',
    description: queue.queueFilterHelp,
    options: { ...configOption, ...queue.queueFilterOptions, ...queue.queueHeldOptions, ...queue.queueAllOption },
    run: async (ctx) => queue.queueDrop(await loadOrExplain(ctx.options), ctx),
  },
  {
    name: 'queue dump',
    args: 'ID',
    minArgs: 1,
    maxArgs: 1,
    summary: 'Write the message of queue entry ID to standard output, byte for byte as it will be sent.',
    options: { ...configOption },
    run: async (ctx) => queue.queueDump(await loadOrExplain(ctx.options), ctx),
  },
  {
    name: 'queue retired',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'List delivered and failed recipients kept in the history: id, result, sender, recipient, retired time, attempts, last error; with --id every attempt.',
    description: `The history is kept for queue.retiredDays of mailcove.conf. ${queue.queueFilterHelp}`,
    options: { ...configOption, ...queue.queueRetiredOptions },
    run: async (ctx) => queue.queueRetired(await loadOrExplain(ctx.options), ctx),
  },
  {
    name: 'queue suppress list',
    args: '[ACCOUNT]',
    minArgs: 0,
    maxArgs: 1,
    summary: "List suppressed recipients, of all accounts or one: messages to them fail without a delivery attempt.",
    description: 'Recipients are added when they fail for good (a 5xx saying the mailbox is unknown or refuses mail) or after repeated failures, or by hand.',
    options: { ...configOption },
    run: async (ctx) => queue.suppressList(await loadOrExplain(ctx.options), ctx),
  },
  {
    name: 'queue suppress add',
    args: 'ACCOUNT ADDRESS [REASON]',
    minArgs: 2,
    maxArgs: 3,
    summary: "Add ADDRESS to ACCOUNT's suppression list; sub-addresses and dotted variants of it match too.",
    options: { ...configOption },
    run: async (ctx) => queue.suppressAdd(await loadOrExplain(ctx.options), ctx),
  },
  {
    name: 'queue suppress rm',
    args: 'ACCOUNT ADDRESS',
    minArgs: 2,
    maxArgs: 2,
    summary: "Remove ADDRESS from ACCOUNT's suppression list.",
    options: { ...configOption },
    run: async (ctx) => queue.suppressRm(await loadOrExplain(ctx.options), ctx),
  },
  {
    name: 'queue holdrules list',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'List the hold rules: new messages matching one are held (not delivered) until released.',
    options: { ...configOption },
    run: async (ctx) => queue.holdRulesList(await loadOrExplain(ctx.options), ctx),
  },
  {
    name: 'queue holdrules add',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'Add a hold rule; every given field must match, a rule without fields holds everything. Queued entries it matches are held at once.',
    options: {
      ...configOption,
      account: { type: 'string', valueName: 'A', description: 'sending account' },
      'sender-domain': { type: 'string', valueName: 'D', description: 'domain of MAIL FROM' },
      'recipient-domain': { type: 'string', valueName: 'D', description: 'domain of the recipient' },
    },
    run: async (ctx) => queue.holdRulesAdd(await loadOrExplain(ctx.options), ctx),
  },
  {
    name: 'queue holdrules rm',
    args: 'ID',
    minArgs: 1,
    maxArgs: 1,
    summary: 'Remove a hold rule; entries it held stay held until released.',
    options: { ...configOption },
    run: async (ctx) => queue.holdRulesRm(await loadOrExplain(ctx.options), ctx),
  },
  {
    name: 'setaccountpassword',
    args: 'ACCOUNT',
    minArgs: 1,
    maxArgs: 1,
    summary: 'Set the password of an account: prompted twice on a terminal, or the first line of standard input.',
    description: 'Stores only derived credentials (scrypt hash, SCRAM-SHA-1/256 keys, CRAM-MD5 HMAC states), never the password. Works while the server runs.',
    options: { ...configOption },
    run: async ({ args, options, stdin, stderr, stdout }) => {
      const [name] = args as [string];
      const config = await loadOrExplain(options);
      if (!config.domains.accounts[name]) throw new CommandError(`no account ${JSON.stringify(name)} in domains.conf`);
      const password = await readNewPassword(stdin, stderr);
      let creds;
      try {
        creds = await deriveCredentials(password);
      } catch (e) {
        if (e instanceof PasswordError) throw new CommandError(e.message);
        throw e;
      }
      await withStore(config, (store) => store.auth.setCredentials(name, creds));
      stdout.write(`password of ${name} set\n`);
    },
  },
  {
    name: 'setadminpassword',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'Set the password of the admin web page: prompted twice on a terminal, or the first line of standard input.',
    description: 'Stores only an scrypt hash, in the file named by adminPasswordFile of mailcove.conf (default: adminpasswd beside it), written atomically with mode 0600. Works while the server runs.',
    options: { ...configOption },
    run: async ({ options, stdin, stderr, stdout }) => {
      const config = await loadOrExplain(options);
      const password = await readNewPassword(stdin, stderr);
      let path;
      try {
        path = await setAdminPassword(dirname(config.paths.static), config.static, password);
      } catch (e) {
        if (e instanceof PasswordError) throw new CommandError(e.message);
        throw e;
      }
      stdout.write(`admin password set in ${path}\n`);
    },
  },
  {
    name: 'verifydata',
    args: 'DATADIR',
    minArgs: 1,
    maxArgs: 1,
    summary: 'Check the data directory: counts, UIDs, MODSEQs, message files against their rows. Exit 1 on problems.',
    description: 'Safe to run on a copy of the data directory (a backup); on a live one it reads a consistent snapshot of each database.',
    options: {},
    run: async ({ args, stdout, stderr }) => {
      const report = await verifyData(args[0]!);
      for (const p of report.problems) stderr.write(`${p}\n`);
      stdout.write(`${report.accounts} accounts, ${report.messages} messages checked, ${report.problems.length} problems\n`);
      return report.problems.length ? 1 : 0;
    },
  },
  sendmailCommand,
  {
    name: 'version',
    args: '',
    minArgs: 0,
    maxArgs: 0,
    summary: 'Print the version.',
    options: {},
    run: async ({ stdout }) => {
      stdout.write(`mailcove ${version()}\n`);
    },
  },
  {
    name: 'help',
    args: '[COMMAND...]',
    minArgs: 0,
    maxArgs: 4,
    summary: "Print help for all commands or one command; 'help --markdown' prints the README's CLI reference.",
    options: { markdown: { type: 'boolean', description: 'print the CLI reference as Markdown' } },
    run: async ({ args, options, stdout }) => {
      if (options['markdown']) {
        stdout.write(markdownReference());
        return;
      }
      const c = commands.find((x) => x.name === args.join(' '));
      if (args.length && !c) throw new UsageError(`no command ${JSON.stringify(args.join(' '))}`);
      stdout.write(c ? commandHelp(c) : commands.map((x) => `${synopsis(x)}\n    ${x.summary}\n`).join(''));
    },
  },
];

/** The README's CLI section, generated from the table so that it cannot drift (test/readme.test.ts). */
export function markdownReference(): string {
  return commands.map((c) => `- \`${synopsis(c)}\`: ${c.summary}`).join('\n') + '\n';
}
