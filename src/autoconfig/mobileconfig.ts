// Apple configuration profile (.mobileconfig) for Mail on iOS and macOS: a property list
// (Apple's PropertyList-1.0 DTD) with one com.apple.mail.managed payload holding the IMAP
// and SMTP settings, as Apple's Device Management documentation describes the "Mail"
// payload. Unsigned: devices show it as unverified but install it.
import { createHash } from 'node:crypto';
import { notFound, type Reply } from './reply.ts';
import { settingsRequest, type AutoconfigSources } from './request.ts';
import { clientSettings } from './settings.ts';
import { Markup, xml } from './xml.ts';

type PlistValue = string | number | boolean | readonly PlistValue[] | { readonly [key: string]: PlistValue };

/** A value as plist XML: dict keys in the given order, numbers as integer. */
function plistValue(v: PlistValue): Markup {
  if (typeof v === 'string') return xml`<string>${v}</string>`;
  if (typeof v === 'boolean') return new Markup(v ? '<true/>' : '<false/>');
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new TypeError(`plist integer expected, got ${v}`);
    return xml`<integer>${v}</integer>`;
  }
  if (Array.isArray(v)) return xml`<array>${v.map(plistValue)}</array>`;
  return xml`<dict>${Object.entries(v).map(([k, x]) => xml`<key>${k}</key>${plistValue(x)}`)}</dict>`;
}

/** A whole property list document. */
function plist(v: PlistValue): string {
  return xml`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">${plistValue(v)}</plist>
`.text;
}

// RFC 9562 §6.6: the URL namespace; our names are mailto: URIs (RFC 6068) with a fragment per payload.
const urlNamespace = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');

/** A name-based UUID, version 5 (RFC 9562 §5.5): the same address always gets the same PayloadUUIDs, so reinstalling replaces. */
export function uuidV5(name: string): string {
  const h = createHash('sha1').update(urlNamespace).update(name, 'utf8').digest().subarray(0, 16);
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5
  h[8] = (h[8]! & 0x3f) | 0x80; // variant 10 (RFC 9562 §4.1)
  const x = h.toString('hex').toUpperCase();
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The profile for the `email` parameter of a request on `host`. */
export function appleProfile(o: AutoconfigSources, host: string, email: string | null): Reply {
  const r = settingsRequest(o, host, email);
  if ('status' in r) return r;
  if (r.address === undefined) return notFound(); // a profile is for one address
  const s = clientSettings(o.static());
  const imap = s.imap[0];
  const smtp = s.submission[0];
  if (!imap || !smtp) return notFound(); // a Mail payload needs both
  const address = r.address;
  const d = r.domain;
  // Reverse-DNS identifiers (Apple: PayloadIdentifier); the hash keeps profiles of different addresses apart whatever their localparts hold.
  const identifier = `${d.ascii.split('.').reverse().join('.')}.email.${createHash('sha256').update(address).digest('hex').slice(0, 16)}`;
  const auth = s.cramMD5 ? 'EmailAuthCRAMMD5' : 'EmailAuthPassword';
  // UseSSL on the STARTTLS ports makes Mail use STARTTLS.
  const mail: PlistValue = {
    EmailAccountDescription: address,
    EmailAccountType: 'EmailTypeIMAP',
    EmailAddress: address,
    IncomingMailServerAuthentication: auth,
    IncomingMailServerHostName: imap.host,
    IncomingMailServerPortNumber: imap.port,
    IncomingMailServerUseSSL: true,
    IncomingMailServerUsername: address,
    OutgoingMailServerAuthentication: auth,
    OutgoingMailServerHostName: smtp.host,
    OutgoingMailServerPortNumber: smtp.port,
    OutgoingMailServerUseSSL: true,
    OutgoingMailServerUsername: address,
    OutgoingPasswordSameAsIncomingPassword: true,
    PayloadDescription: `Mail account ${address}`,
    PayloadDisplayName: `Mail ${address}`,
    PayloadIdentifier: `${identifier}.mail`,
    PayloadType: 'com.apple.mail.managed',
    PayloadUUID: uuidV5(`mailto:${address}#mail`),
    PayloadVersion: 1,
  };
  const profile: PlistValue = {
    PayloadContent: [mail],
    PayloadDescription: `Settings to read and send mail as ${address}`,
    PayloadDisplayName: `Mail for ${address}`,
    PayloadIdentifier: identifier,
    PayloadRemovalDisallowed: false,
    PayloadType: 'Configuration',
    PayloadUUID: uuidV5(`mailto:${address}#profile`),
    PayloadVersion: 1,
  };
  return {
    status: 200,
    contentType: 'application/x-apple-aspen-config',
    body: plist(profile),
    headers: { 'Content-Disposition': `attachment; filename="${d.ascii}.mobileconfig"` }, // RFC 6266 §4.1: A-labels only, nothing to quote
  };
}
