// SASL: credential derivation and storage format (issue 2); the mechanisms themselves
// (PLAIN, LOGIN, CRAM-MD5, SCRAM-*, EXTERNAL) arrive with the SMTP issue.
export { deriveCredentials, verifyPassword, normalizePassword, cramMD5Digest, scramSaltedPassword, scramKeys, isStoredCredentials, PasswordError } from './credentials.ts';
export type { StoredCredentials, ScramCredentials, ScramHash } from './credentials.ts';
