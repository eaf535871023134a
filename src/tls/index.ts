// Public surface of TLS: listener certificates (files, self-signed, SNI), client public-key
// identities, channel binding, self-signed certificate and PKCS #12 making.
export { loadListenerTls, TlsError, type TlsConfig } from './listener.ts';
export { clientKeyFingerprint, publicKeyFingerprint, channelBinding, describeTls } from './identity.ts';
export { makeSelfSigned, type KeyType } from './selfsigned.ts';
export { makePkcs12 } from './pkcs12.ts';
