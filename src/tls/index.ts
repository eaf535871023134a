// Public surface of TLS: listener certificates (files, self-signed, or ACME from src/acme;
// chosen by SNI), client public-key identities, channel binding, self-signed certificate and
// PKCS #12 making; the CSR and tls-alpn-01 certificate ACME needs.
export { loadListenerTls, keepDefaultCertificate, TlsError, type TlsConfig, type ServerOptionsRequest } from './listener.ts';
export { clientKeyFingerprint, publicKeyFingerprint, channelBinding, describeTls } from './identity.ts';
export { makeSelfSigned, type KeyType } from './selfsigned.ts';
export { makePkcs12 } from './pkcs12.ts';
export { registerAcmeSource, type AcmeCertificateSource } from './acmelistener.ts';
export { makeCsr, makeTlsAlpnCertificate } from './acmecerts.ts';
