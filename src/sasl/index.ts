// SASL: credential derivation and storage format, the server mechanisms (PLAIN, LOGIN,
// CRAM-MD5, SCRAM-SHA-1/256 and -PLUS, EXTERNAL) and failed-login limiting; used by SMTP,
// IMAP and the web; the admin password hash. scramClient logs in to a server (sendmail) and tests ours.
export { deriveCredentials, verifyPassword, hashPassword, verifyScrypt, normalizePassword, cramMD5Digest, scramSaltedPassword, scramKeys, isStoredCredentials, PasswordError } from './credentials.ts';
export type { StoredCredentials, ScramCredentials, ScramHash, ScryptHash } from './credentials.ts';
export { setAdminPassword, verifyAdminPassword, adminPasswordPath, defaultAdminPasswordFile } from './adminpassword.ts';
export { startSasl, offeredMechanisms, checkCredentials, type SaslMechanism } from './mechanisms.ts';
export { SaslError, isSaslError, isBase64, maxResponseLine, type SaslContext, type SaslExchange, type SaslStep, type SaslErrorKind } from './context.ts';
export { authFailureLimiter, defaultAuthFailureLimits, type AuthFailureLimiter } from './limiter.ts';
export { scramClient, type ScramClient } from './scramclient.ts';
export { loginContext, loginAccount, type LoginTried } from './login.ts';
export { recordLogin, type LoginResult } from './loginlog.ts';
