// Challenges being validated right now, process-wide: any plain HTTP listener answers an
// http-01 challenge and any ACME TLS listener a tls-alpn-01 challenge, for every provider.
import { createSecureContext, type SecureContext } from 'node:tls';

/** Where a CA fetches an http-01 key authorization: this prefix and the token (RFC 8555 §8.3). */
export const httpChallengePrefix = '/.well-known/acme-challenge/';

interface HttpChallenge {
  name: string; // the identifier being validated, lowercase A-label
  keyAuthorization: string; // token '.' base64url(JWK thumbprint), RFC 8555 §8.1
}

const httpChallenges = new Map<string, HttpChallenge>(); // by token
const tlsAlpnChallenges = new Map<string, SecureContext>(); // by name

/** The body for GET /.well-known/acme-challenge/<token> with this Host, when that challenge is pending. */
export function httpChallengeResponse(host: string, token: string): string | undefined {
  const c = httpChallenges.get(token);
  if (!c) return undefined;
  const h = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  return h === c.name ? c.keyAuthorization : undefined; // RFC 8555 §8.3: the CA asks the identifier's host
}

/** The self-signed challenge certificate for a name, when a tls-alpn-01 challenge for it is pending (RFC 8737 §3). */
export function tlsAlpnChallengeContext(name: string): SecureContext | undefined {
  return tlsAlpnChallenges.get(name.toLowerCase().replace(/\.$/, ''));
}

export function addHttpChallenge(token: string, name: string, keyAuthorization: string): void {
  httpChallenges.set(token, { name, keyAuthorization });
}

export function removeHttpChallenge(token: string): void {
  httpChallenges.delete(token);
}

/** Answers tls-alpn-01 for the name with this certificate until removeTlsAlpnChallenge(name, <the context returned>). */
export function addTlsAlpnChallenge(name: string, keyPEM: string, certPEM: string): SecureContext {
  const context = createSecureContext({ key: keyPEM, cert: certPEM });
  tlsAlpnChallenges.set(name, context);
  return context;
}

/** Ends the challenge unless a newer one for the name replaced it (an order given up at its deadline ends late). */
export function removeTlsAlpnChallenge(name: string, context: SecureContext): void {
  if (tlsAlpnChallenges.get(name) === context) tlsAlpnChallenges.delete(name);
}
