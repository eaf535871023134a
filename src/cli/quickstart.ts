// `mailcove quickstart you@example.com`: the config for a new mail server for one domain,
// written to ./config (data in ./data): the account and admin passwords (printed once),
// DKIM keys (two RSA-2048 selectors named after the year, a signing and b in reserve for
// rotation, and an ed25519 one also signing, RFC 8463 §3), sub-addressing with '+',
// DMARC and TLS reports into their own mailboxes, an MTA-STS policy, ACME certificates.
// Then everything to do next: the DNS records, a systemd unit, the commands.
import { randomBytes } from 'node:crypto';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig, normalizeDomain, parseAddress, writeDkimKeyFile } from '../config/index.ts';
import { domainRecords, zoneLines } from '../dnsrecords/index.ts';
import { loadAcme } from '../acme/index.ts';
import { generateDkimKey } from '../mailauth/index.ts';
import { deriveCredentials, setAdminPassword } from '../sasl/index.ts';
import { openStore } from '../store/index.ts';
import { CommandError } from './command.ts';

export interface QuickstartOptions {
  address: string;
  hostname?: string | undefined;
  existingWebserver: boolean;
  skipDial: boolean;
  user: string;
  /** Directory to write config/ and data/ in (default: the current directory). */
  dir: string;
  out: NodeJS.WritableStream;
  /** ACME directory; default Let's Encrypt. */
  acmeDirectory?: string | undefined;
}

const letsEncrypt = 'https://acme-v02.api.letsencrypt.org/directory';

/** 18 random bytes as base64url: 24 characters, 144 bits. */
function newPassword(): string {
  return randomBytes(18).toString('base64url');
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/** Whether we can open TCP port 25 to the internet; many providers block it, and then no mail goes out. */
function dial25(host: string, timeoutMs = 5000): Promise<string | undefined> {
  return new Promise((res) => {
    const s = connect({ host, port: 25 });
    const done = (err?: string) => {
      s.destroy();
      res(err);
    };
    s.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs / 1000} s`));
    s.once('connect', () => done());
    s.once('error', (e) => done(e.message));
  });
}

export async function quickstart(o: QuickstartOptions): Promise<void> {
  const a = parseAddress(o.address);
  if ('error' in a) throw new CommandError(`${o.address}: ${a.error}`);
  const d = normalizeDomain(a.domain);
  if ('error' in d) throw new CommandError(d.error);
  const domain = d.domain;
  const hostname = (o.hostname ?? `mail.${d.ascii}`).toLowerCase();
  if (!hostname.includes('.')) throw new CommandError(`--hostname ${hostname}: give a fully qualified host name, e.g. mail.${d.ascii}`);
  const accountName = a.localpart.toLowerCase().replace(/[^a-z0-9._-]/g, '') || 'mail';
  const configDir = resolve(o.dir, 'config');
  const staticPath = join(configDir, 'mailcove.conf');
  const domainsPath = join(configDir, 'domains.conf');
  for (const p of [staticPath, domainsPath]) if (await exists(p)) throw new CommandError(`${p} exists; quickstart does not overwrite a config (move it away first)`);

  const out = (line = '') => o.out.write(`${line}\n`);
  if (!o.skipDial) {
    // Outbound SMTP must work for the server to send; check before anything is written.
    const errors = await Promise.all(['gmail-smtp-in.l.google.com', 'mx1.mail.icloud.com'].map((h) => dial25(h)));
    if (errors.every((e) => e !== undefined)) out(`WARNING: outgoing connections to port 25 fail (${errors.join('; ')}): this machine cannot deliver mail directly; ask your provider to open port 25, or configure a smarthost transport.`);
    else out('checked: outgoing connections to port 25 work');
  }

  await mkdir(configDir, { recursive: true });
  const year = new Date().getUTCFullYear();
  const selectors: Record<string, { privateKeyFile: string }> = {};
  for (const [selector, kind] of [[`${year}a`, 'rsa'], [`${year}b`, 'rsa'], [`${year}e`, 'ed25519']] as const) {
    const key = await generateDkimKey(kind, 2048);
    selectors[selector] = { privateKeyFile: await writeDkimKeyFile(configDir, selector, d.ascii, kind, key.privateKeyPEM) };
  }

  const publicIPs = ['0.0.0.0', '::'];
  const tls = o.existingWebserver
    ? { keyCerts: [{ certFile: `/etc/letsencrypt/live/${hostname}/fullchain.pem`, keyFile: `/etc/letsencrypt/live/${hostname}/privkey.pem` }] }
    : { acme: 'letsencrypt' };
  const staticDoc = {
    dataDir: '../data',
    hostname,
    user: o.user,
    logLevel: 'info',
    ...(o.existingWebserver ? {} : { acme: { letsencrypt: { directoryURL: o.acmeDirectory ?? letsEncrypt, contactEmail: `${a.localpart}@${d.ascii}` } } }),
    listeners: {
      public: {
        ips: publicIPs,
        hostname,
        tls,
        smtp: { port: 25 },
        submission: { port: 587 },
        submissions: { port: 465 },
        imap: { port: 143 },
        imaps: { port: 993 },
        ...(o.existingWebserver ? {} : { accountHTTPS: { port: 443, path: '/' }, autoconfigHTTPS: { port: 443 }, mtastsHTTPS: { port: 443 } }),
      },
      // The admin page and metrics only on loopback: reach them through an SSH tunnel.
      internal: {
        ips: ['127.0.0.1'],
        hostname: 'localhost',
        adminHTTP: { port: 1080, path: '/admin/' },
        ...(o.existingWebserver ? { accountHTTP: { port: 1080, path: '/', forwarded: true } } : {}),
        metricsHTTP: { port: 8010 },
      },
    },
  };
  const policyID = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const domainsDoc = {
    domains: {
      [domain]: {
        localpartCatchallSeparator: '+',
        dkim: { selectors, sign: [`${year}a`, `${year}e`] },
        dmarc: { localpart: 'dmarc-reports', account: accountName, mailbox: 'DMARC' },
        tlsRpt: { localpart: 'tls-reports', account: accountName, mailbox: 'TLSRPT' },
        mtaSts: { policyID, mode: 'enforce', maxAgeSeconds: 86400 },
      },
    },
    accounts: { [accountName]: { domain, destinations: { [`${a.localpart}@${domain}`]: {} } } },
  };
  await writeFile(staticPath, `# mailcove.conf written by \`mailcove quickstart\` on ${new Date().toISOString()}; static: read at start.\n${stringify(staticDoc)}`, { flag: 'wx' });
  await writeFile(domainsPath, `# domains.conf written by \`mailcove quickstart\`; reloaded when it changes, edited by the admin page.\n${stringify(domainsDoc)}`, { flag: 'wx' });

  const config = await loadConfig(staticPath); // what serve will load: a mistake here is ours
  const accountPassword = newPassword();
  const adminPassword = newPassword();
  await setAdminPassword(configDir, config.static, adminPassword);
  await mkdir(config.paths.dataDir, { recursive: true });
  const store = await openStore(config.paths.dataDir);
  try {
    await store.createAccount(accountName);
    await store.auth.setCredentials(accountName, await deriveCredentials(accountPassword));
  } finally {
    await store.close();
  }

  if (!o.existingWebserver) {
    // The ACME account now, so the CAA record can name it (RFC 8657 §3 accounturi); a failure only leaves it out.
    const m = await loadAcme({ provider: 'letsencrypt', config: config.static.acme['letsencrypt']!, dataDir: config.paths.dataDir, configDir, names: [] });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([m.accountURL(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 30 s')), 30_000)))]);
    } catch (e) {
      out(`WARNING: registering the ACME account failed (${e instanceof Error ? e.message : String(e)}); the CAA record below names the CA only; \`mailcove config dnsrecords\` includes the account once serve has registered it.`);
    } finally {
      clearTimeout(timer);
      await m.close();
    }
  }
  const records = (await domainRecords({ static: config.static, configDir, dataDir: config.paths.dataDir, domains: config.domains, name: domain, tlsa: !o.existingWebserver })).specs;
  const bin = resolve(process.argv[1] ?? 'mailcove');
  out(`Wrote ${staticPath} and ${domainsPath}; data goes to ${config.paths.dataDir}.`);
  out();
  out('Passwords (shown only now; keep them):');
  out(`  account ${accountName}, login ${a.localpart}@${d.ascii}: ${accountPassword}`);
  out(`  admin page: ${adminPassword}`);
  out();
  out(`DNS records to create for ${d.ascii} (and for the host ${hostname}):`);
  out();
  for (const l of zoneLines(records)) out(l);
  out();
  if (o.existingWebserver) {
    out('Your web server keeps ports 80 and 443. Certificates: mailcove reads');
    out(`  /etc/letsencrypt/live/${hostname}/fullchain.pem and privkey.pem (renew them with your ACME client, e.g. certbot; restart mailcove after renewal),`);
    out(`and your web server should proxy https://${hostname}/ to http://127.0.0.1:1080/ (the account page; it trusts X-Forwarded-For/-Proto from it),`);
    out(`and serve https://mta-sts.${d.ascii}/.well-known/mta-sts.txt and https://autoconfig.${d.ascii}/mail/config-v1.1.xml by proxying them to the same address.`);
    out('The TLSA record (DANE) is not above: make the certificate with the same key on each renewal (certbot --reuse-key), then `mailcove config dnsrecords` prints it.');
    out();
  }
  out('A systemd unit, /etc/systemd/system/mailcove.service:');
  out();
  out(['[Unit]', 'Description=Mailcove mail server', 'After=network-online.target', 'Wants=network-online.target', '', '[Service]', `WorkingDirectory=${resolve(o.dir)}`,
    `ExecStart=${bin} serve --config ${staticPath}`, `ExecStop=${bin} stop --config ${staticPath}`, 'Restart=always', 'TimeoutStopSec=60', 'LimitNOFILE=65536', '',
    '[Install]', 'WantedBy=multi-user.target'].join('\n'));
  out();
  out('Next:');
  if (o.user !== 'root') out(`  useradd --system --home-dir ${resolve(o.dir)} --no-create-home ${o.user}   # the server runs as ${o.user} after binding its ports`);
  out(`  ${bin} config test --config ${staticPath}`);
  out('  systemctl daemon-reload && systemctl enable --now mailcove');
  out(`  ${bin} config dnscheck --config ${staticPath} ${d.ascii}   # after creating the records`);
  out(`  admin page: ssh -L 1080:127.0.0.1:1080 ${hostname}, then http://127.0.0.1:1080/admin/`);
}
