// The web surfaces of this folder, one route table per path prefix: autoconfig, autodiscover
// and the Apple profile for listeners with autoconfigHTTPS, the MTA-STS policy for those
// with mtastsHTTPS. src/http routes by exact host only, so each handler checks the host
// itself against the live domains.conf (a domain added later is served without a restart).
import { readBody, type HttpContext, type Surface, type SurfaceHandler } from '../http/index.ts';
import { autodiscoverResponse, maxAutodiscoverRequest } from './autodiscover.ts';
import { appleProfile } from './mobileconfig.ts';
import { mtaStsReply } from './mtasts.ts';
import { notFound, textReply, writeReply, type Reply } from './reply.ts';
import type { AutoconfigSources } from './request.ts';
import { requestHost } from './settings.ts';
import { thunderbirdConfig } from './thunderbird.ts';

interface Route {
  methods: readonly string[];
  serve: (c: HttpContext, o: AutoconfigSources, host: string) => Reply | Promise<Reply>;
}

const get = ['GET', 'HEAD'] as const;

const configV11: Route = { methods: get, serve: (c, o, host) => thunderbirdConfig(o, host, c.url.searchParams.get('emailaddress')) };

// Paths below each surface prefix.
const mailRoutes: Record<string, Route> = {
  'config-v1.1.xml': configV11, // autoconfig.<domain>/mail/config-v1.1.xml
  'apple.mobileconfig': { methods: get, serve: (c, o, host) => appleProfile(o, host, c.url.searchParams.get('email')) },
};
const wellKnownAutoconfigRoutes: Record<string, Route> = { 'mail/config-v1.1.xml': configV11 }; // <domain>/.well-known/autoconfig/mail/config-v1.1.xml
const autodiscoverRoutes: Record<string, Route> = {
  'autodiscover.xml': { methods: ['POST'], serve: async (c, o, host) => { // MS-OXDSCLI §3.1.5: POST only
    const body = await readBody(c, maxAutodiscoverRequest);
    return body ? autodiscoverResponse(o, host, body) : textReply(413, `request body too large (max ${maxAutodiscoverRequest} bytes)`); // RFC 9110 §15.5.14
  } },
};
const mtaStsRoutes: Record<string, Route> = { 'mta-sts.txt': { methods: get, serve: (_c, o, host) => mtaStsReply(o, host) } }; // RFC 8461 §3.3: GET only

function routed(o: AutoconfigSources, routes: Record<string, Route>, caseInsensitive = false): SurfaceHandler {
  return async (c) => {
    const path = caseInsensitive ? c.path.toLowerCase() : c.path;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    if (!route) return writeReply(c, notFound());
    const method = c.req.method ?? '';
    if (!route.methods.includes(method)) return writeReply(c, textReply(405, 'method not allowed', { Allow: route.methods.join(', ') })); // RFC 9110 §15.5.6
    const host = requestHost(c.req);
    const reply = await route.serve(c, o, host);
    c.log.debug({ host, path: c.url.pathname, status: reply.status }, 'autoconfig request');
    writeReply(c, reply);
  };
}

/**
 * Surfaces for a listener with autoconfigHTTPS: /mail/config-v1.1.xml and
 * /mail/apple.mobileconfig, /.well-known/autoconfig/mail/config-v1.1.xml, and
 * /autodiscover/autodiscover.xml (any case, as Outlook varies it). Answered for our host
 * names, configured domains, and autoconfig./autodiscover. before a configured domain.
 */
export function autoconfigSurfaces(o: AutoconfigSources): Surface[] {
  const autodiscover = routed(o, autodiscoverRoutes, true);
  return [
    { path: '/mail/', handler: routed(o, mailRoutes) },
    { path: '/.well-known/autoconfig/', handler: routed(o, wellKnownAutoconfigRoutes) },
    { path: '/autodiscover/', handler: autodiscover },
    { path: '/Autodiscover/', handler: autodiscover },
  ];
}

/** Surfaces for a listener with mtastsHTTPS: /.well-known/mta-sts.txt on mta-sts.<domain>, other /.well-known/ paths 404. */
export function mtaStsSurfaces(o: AutoconfigSources): Surface[] {
  return [{ path: '/.well-known/', handler: routed(o, mtaStsRoutes) }];
}
