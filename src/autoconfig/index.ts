// Public surface of src/autoconfig: what mail clients and sending servers fetch over HTTPS
// to set themselves up for our domains (Thunderbird autoconfig, Microsoft autodiscover,
// Apple profiles, the MTA-STS policy). The SRV records for clients (RFC 6186) are src/dnsrecords'.
export { autoconfigSurfaces, mtaStsSurfaces } from './routes.ts';
export type { AutoconfigSources } from './request.ts';
export { appleProfile, uuidV5 } from './mobileconfig.ts';
export { mtaStsPolicy } from './mtasts.ts';
