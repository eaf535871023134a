// Public surface of mail export and import (the account page's download and upload):
// a whole account or one mailbox as mbox files or maildirs, in a zip or tgz.
export { exportMail, type ExportOptions, type ExportResult } from './export.ts';
export { importMail, defaultMaxMessageSize, type ImportOptions, type ImportProgress, type ImportResult, type ImportError } from './import.ts';
