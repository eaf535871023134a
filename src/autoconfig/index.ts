// Public surface of src/autoconfig: what mail clients and sending servers fetch over HTTPS
// to set themselves up for our domains (Thunderbird autoconfig, Microsoft autodiscover,
// Apple profiles, the MTA-STS policy), and the SRV records suggested for clients (RFC 6186).
export { autoconfigSurfaces, mtaStsSurfaces } from './routes.ts';
export type { AutoconfigSources } from './request.ts';
export { thunderbirdConfig } from './thunderbird.ts';
export { autodiscoverResponse, maxAutodiscoverRequest } from './autodiscover.ts';
export { appleProfile, uuidV5 } from './mobileconfig.ts';
export { mtaStsPolicy, mtaStsReply } from './mtasts.ts';
export { clientSrvRecords } from './srv.ts';
export { clientSettings, type ClientSettings, type Endpoint, type Security } from './settings.ts';
export type { Reply } from './reply.ts';
