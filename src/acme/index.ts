// Public surface of ACME (RFC 8555, with acme-client): per provider, certificates for a list
// of host names on stable per-name keys, cached in <dataDir>/acme/<provider>/ and renewed;
// the pending http-01 and tls-alpn-01 (RFC 8737) challenges that listeners answer.
export { loadAcme, AcmeManager, AcmeError, type AcmeCertificate } from './manager.ts';
export { acmeHostnames } from './names.ts';
export { hostKeySpki, hostKeySpkiSha256 } from './hostkey.ts';
export { registeredAccountURL } from './account.ts';
export { httpChallengePrefix, httpChallengeResponse } from './challenges.ts';
