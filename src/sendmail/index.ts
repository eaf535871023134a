// Public surface of sendmail: the drop-in for /usr/sbin/sendmail that submits a message
// from stdin to the configured submission server (`mailcove sendmail`), its config file,
// and the client certificate it logs in with.
export { sendmail, type SendmailOptions } from './sendmail.ts';
export { loadSubmitConfig, describeSubmitConfig, defaultConfigPath, configEnv, type SubmitConfig } from './config.ts';
export { loadClientCertificate, type ClientCertificate } from './clientcert.ts';
export { SendmailError, EX_OK, EX_USAGE, EX_DATAERR, EX_NOUSER, EX_UNAVAILABLE, EX_SOFTWARE, EX_IOERR, EX_TEMPFAIL, EX_PROTOCOL, EX_NOPERM, EX_CONFIG, type ExitCode } from './sysexits.ts';
