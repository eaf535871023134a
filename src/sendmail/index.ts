// Public surface of sendmail: the drop-in for /usr/sbin/sendmail that submits a message
// from stdin to the configured submission server (`mailcove sendmail`), its config file,
// and the exit codes the command returns.
export { sendmail, type SendmailOptions } from './sendmail.ts';
export { loadSubmitConfig, describeSubmitConfig, defaultConfigPath, configEnv, type SubmitConfig } from './config.ts';
export { maxInputBytes } from './input.ts';
export { SendmailError, EX_OK, EX_USAGE, EX_CONFIG, type ExitCode } from './sysexits.ts';
