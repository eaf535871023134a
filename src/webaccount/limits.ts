// Limits and choices the server enforces and the page shows, in one place. Free of imports:
// the frontend bundle (web/account) includes this file as is.

/** At least this long for a password people choose on the account page (an admin may set anything). */
export const minPasswordLength = 8;

/** Largest archive accepted for an import. */
export const maxImportBytes = 1024 * 1024 * 1024; // 1 GiB

export const exportFormats = ['mbox', 'maildir'] as const;
export const exportArchives = ['zip', 'tgz'] as const;

export type ExportFormat = (typeof exportFormats)[number];
export type ExportArchive = (typeof exportArchives)[number];
