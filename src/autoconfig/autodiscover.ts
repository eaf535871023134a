// Microsoft autodiscover in its plain-old-XML form for Outlook (MS-OXDSCLI): a POST of
// the request schema with EMailAddress to /autodiscover/autodiscover.xml, answered in the
// Outlook response schema 2006a with one IMAP and one SMTP Protocol. Clients find us by
// https://<domain>/autodiscover/..., https://autodiscover.<domain>/... or the
// _autodiscover._tcp SRV record (MS-OXDSCLI §3.1.5), which src/dnsrecords publishes.
import { notFound, textReply, type Reply } from './reply.ts';
import { settingsRequest, type AutoconfigSources } from './request.ts';
import { clientSettings, type Endpoint } from './settings.ts';
import { xml, type Markup } from './xml.ts';
import { childrenNamed, readXml, XmlReadError, type XmlElement } from './xmlread.ts';

export const maxAutodiscoverRequest = 64 * 1024; // bytes; a real request is a few hundred

const responseSchema = 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a'; // MS-OXDSCLI §2.2.4

/** The one child of a name, or undefined when absent or repeated. */
function only(e: XmlElement | undefined, name: string): XmlElement | undefined {
  const found = e ? childrenNamed(e, name) : [];
  return found.length === 1 ? found[0] : undefined;
}

/** The address and acceptable schema of a request (MS-OXDSCLI §2.2.3), or why not. */
function readRequest(body: Buffer): { address: string; schema?: string } | { error: string } {
  let root: XmlElement;
  try {
    root = readXml(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (e) {
    if (e instanceof XmlReadError) return { error: e.message };
    if (e instanceof TypeError) return { error: 'request is not UTF-8' };
    throw e;
  }
  if (root.name !== 'Autodiscover') return { error: 'root element is not Autodiscover' };
  const request = only(root, 'Request');
  const address = only(request, 'EMailAddress');
  if (!address) return { error: 'no single Request/EMailAddress element' };
  const schema = only(request, 'AcceptableResponseSchema');
  return { address: address.text.trim(), ...(schema ? { schema: schema.text.trim() } : {}) };
}

/** The answer to an autodiscover POST body sent to `host`. */
export function autodiscoverResponse(o: AutoconfigSources, host: string, body: Buffer): Reply {
  const req = readRequest(body);
  if ('error' in req) return textReply(400, `bad autodiscover request: ${req.error}`);
  if (req.schema !== undefined && req.schema !== responseSchema) return notFound(); // e.g. mobilesync (ActiveSync): not served, the client tries its next method
  if (req.address === '') return textReply(400, 'no email address');
  const r = settingsRequest(o, host, req.address);
  if ('status' in r) return r;
  const address = r.address!;
  const s = clientSettings(o.static());
  const protocol = (type: 'IMAP' | 'SMTP', e: Endpoint | undefined): Markup[] => e === undefined ? [] : [xml`
      <Protocol>
        <Type>${type}</Type>
        <Server>${e.host}</Server>
        <Port>${e.port}</Port>
        <LoginName>${address}</LoginName>
        <SPA>off</SPA>
        <SSL>on</SSL>
        <Encryption>${e.security === 'tls' ? 'SSL' : 'TLS'}</Encryption>
        <AuthRequired>on</AuthRequired>
      </Protocol>`]; // SPA is NTLM, which we do not offer; Encryption TLS is STARTTLS and overrides SSL (MS-OXDSCLI §2.2.4, Protocol)
  if (s.imap.length === 0 && s.submission.length === 0) return notFound();
  const doc = xml`<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="${responseSchema}">
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>${protocol('IMAP', s.imap[0])}${protocol('SMTP', s.submission[0])}
    </Account>
  </Response>
</Autodiscover>
`;
  return { status: 200, contentType: 'application/xml; charset=utf-8', body: doc.text };
}
