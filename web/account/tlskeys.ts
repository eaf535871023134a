// TLS keys tab: the client certificates whose public key logs in (SASL EXTERNAL), upload of
// a new one (pasted PEM or a file: PEM, or DER turned into PEM here) with login address,
// name and the no-PREAUTH flag, removal, and the openssl commands to make key and .p12.
import type { AccountApi, TlsKeyInfo } from '../../src/webaccount/index.ts';
import { h } from '../lib/dom.ts';
import { button, field, fmtTime, form, section, status, table, type App, type Tab } from '../lib/ui.ts';
import { opensslSteps } from './openssl.ts';

export function tlsKeysTab(app: App<AccountApi>): Tab {
  return {
    id: 'tlskeys',
    title: 'TLS keys',
    async render(main) {
      const [keys, account] = await Promise.all([app.api.call('tlsPublicKeys', {}), app.api.call('account', {})]);
      const addresses = account.addresses.filter((a) => !a.catchall).map((a) => a.address);
      main.append(
        section('TLS public keys',
          h('p.hint', null, 'A mail client holding the private key of one of these certificates logs in without a password (SASL EXTERNAL over TLS). Over IMAP with implicit TLS it is even logged in at once (PREAUTH) unless that is turned off for the key.'),
          keyTable(app, keys)),
        addSection(app, addresses),
        helpSection(addresses[0] ?? account.name),
      );
    },
  };
}

function keyTable(app: App<AccountApi>, keys: TlsKeyInfo[]): HTMLElement {
  const t = table(['Name', 'Login address', 'Key', 'Fingerprint (SHA-256 of the public key)', 'IMAP PREAUTH', 'Added', ''], keys.map((k) => [
    k.name,
    k.loginAddress,
    k.keyType,
    h('code.fingerprint', null, k.fingerprint),
    k.noIMAPPreauth ? 'no' : 'yes',
    fmtTime(k.created),
    button('Delete', async () => {
      await app.api.call('removeTlsPublicKey', { fingerprint: k.fingerprint });
      status(`Key ${JSON.stringify(k.name)} deleted.`);
      app.refresh();
    }, { kind: 'danger', confirm: `Delete the key ${JSON.stringify(k.name)}? Clients using it can no longer log in with it.` }),
  ]), 'No TLS public keys yet.');
  t.id = 'tls-keys';
  // Row hooks for tests and scripts: the fingerprint identifies a key.
  t.querySelectorAll('tbody tr').forEach((tr, i) => tr.setAttribute('data-fingerprint', keys[i]!.fingerprint));
  return t;
}

function addSection(app: App<AccountApi>, addresses: string[]): HTMLElement {
  const certificate = h('textarea', { name: 'certificate', required: true, spellcheck: 'false', placeholder: '-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----' });
  const file = h('input', { type: 'file', name: 'certificateFile', accept: '.pem,.crt,.cer,.der' });
  file.addEventListener('change', () => {
    const f = file.files?.[0];
    if (f) void readCertificateFile(f).then((pem) => (certificate.value = pem), (e: unknown) => status(`Reading ${f.name}: ${String(e)}`, 'error'));
  });
  const loginAddress = h('select', { name: 'loginAddress', required: true }, addresses.map((a) => h('option', { value: a }, a)));
  const name = h('input', { name: 'name', maxlength: 100, placeholder: 'e.g. laptop (default: the certificate\'s CN)' });
  const noPreauth = h('input', { type: 'checkbox', name: 'noIMAPPreauth' });
  const f = form([
    field('Certificate (PEM)', certificate, 'Paste it, or choose the file below. Only the certificate: its public key is what is stored.'),
    field('Or a certificate file', file),
    field('Logs in as', loginAddress),
    field('Name', name),
    h('label.check', null, noPreauth, 'No IMAP PREAUTH: with implicit TLS, still ask the client to log in'),
    h('div.row', null, h('button.primary', { type: 'submit', id: 'add-tls-key' }, 'Add key')),
  ], async (el) => {
    const k = await app.api.call('addTlsPublicKey', { certificate: certificate.value, loginAddress: loginAddress.value, name: name.value, noIMAPPreauth: noPreauth.checked });
    el.reset();
    status(`Key ${JSON.stringify(k.name)} added.`);
    app.refresh();
  }, { class: 'form stacked' });
  f.id = 'tls-key-form';
  return section('Add a certificate', f);
}

/** The file's text when it is PEM; a DER file (binary) as PEM. */
async function readCertificateFile(f: File): Promise<string> {
  const bytes = new Uint8Array(await f.arrayBuffer());
  const text = new TextDecoder().decode(bytes);
  if (text.includes('-----BEGIN')) return text;
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  const b64 = btoa(bin).replace(/.{64}/g, '$&\n').trimEnd(); // RFC 7468 §2: 64-character lines
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

function helpSection(address: string): HTMLElement {
  return section('Making a key and certificate',
    h('div#openssl-help.help', null,
      h('p', null, 'With OpenSSL, in an empty folder:'),
      // A step with several commands offers alternatives (ed25519 or RSA): one each.
      opensslSteps(address).map((s) => [h('h3', null, s.title), s.commands.map((c, i) => [i > 0 ? h('p.or', null, 'or') : null, h('pre', null, c)])]),
      h('p.hint', null, 'Import key.p12 in your mail client (Thunderbird: Settings, Privacy & Security, Certificates; Apple Mail: open it in Keychain Access), and choose "TLS certificate" or "client certificate" as the authentication method. Keep key.pem and key.p12 to yourself.')));
}
