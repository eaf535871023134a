// Thunderbird's autoconfig document, config-v1.1.xml: served at
// https://autoconfig.<domain>/mail/config-v1.1.xml and
// https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml (both with ?emailaddress=),
// in Mozilla's format: https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat
import { notFound, type Reply } from './reply.ts';
import { settingsRequest, type AutoconfigSources } from './request.ts';
import { clientSettings, type Endpoint } from './settings.ts';
import { Markup, xml } from './xml.ts';

// Mozilla's socketType values; "plain" is never offered (RFC 8314 §4.1).
const socketType = { tls: 'SSL', starttls: 'STARTTLS' } as const;

/** The config-v1.1.xml for a request on `host` with the emailaddress parameter (may be absent). */
export function thunderbirdConfig(o: AutoconfigSources, host: string, emailAddress: string | null): Reply {
  const r = settingsRequest(o, host, emailAddress);
  if ('status' in r) return r;
  const s = clientSettings(o.static());
  if (s.imap.length === 0 && s.submission.length === 0) return notFound();
  // "password-encrypted" is CRAM-MD5 to Thunderbird; it sends no password then. Plain only if nothing better is offered.
  const authentication = s.cramMD5 ? 'password-encrypted' : 'password-cleartext';
  // %EMAILADDRESS% is what the user typed (our logins take any address of the account,
  // src/sasl loginAccount), so the address is not echoed into the document at all.
  const server = (element: 'incomingServer' | 'outgoingServer', type: 'imap' | 'smtp', e: Endpoint): Markup => {
    const tag = new Markup(element); // one of two constant names
    return xml`
    <${tag} type="${type}">
      <hostname>${e.host}</hostname>
      <port>${e.port}</port>
      <socketType>${socketType[e.security]}</socketType>
      <username>%EMAILADDRESS%</username>
      <authentication>${authentication}</authentication>
    </${tag}>`;
  };
  const d = r.domain;
  const doc = xml`<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="${d.ascii}">
    <domain>${d.ascii}</domain>
    <displayName>${d.domain}</displayName>
    <displayShortName>${d.domain.split('.')[0] ?? d.domain}</displayShortName>${s.imap.map((e) => server('incomingServer', 'imap', e))}${s.submission.map((e) => server('outgoingServer', 'smtp', e))}
  </emailProvider>
</clientConfig>
`;
  return { status: 200, contentType: 'application/xml; charset=utf-8', body: doc.text };
}
