// Export: the account's mailboxes (to choose from) and the download itself, a form post
// (the browser saves the attachment) answered with a zip or tgz of mbox or maildir files
// streamed from the store as it is written (src/mailexport), never built in memory.
import { z } from 'zod';
import { exportMail } from '../mailexport/index.ts';
import { exportArchives, exportFormats, type ExportArchive } from './limits.ts';
import { accountMethod, withAccount, type AccountSurfaceDeps } from './method.ts';

export interface MailboxSummary {
  name: string;
  specialUse: string | null; // RFC 6154, e.g. \Sent
  messages: number;
  size: number; // octets
}

const archiveTypes: Record<ExportArchive, string> = { zip: 'application/zip', tgz: 'application/gzip' };

/** RFC 6266 §4.1: an ASCII filename for every browser, and filename* (RFC 8187) with the exact UTF-8 name. */
export function attachmentDisposition(name: string): string {
  const ascii = name.replace(/[^A-Za-z0-9._-]+/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"${ascii === name ? '' : `; filename*=UTF-8''${encoded}`}`;
}

/** `<account>[-<mailbox>]-<yyyy-mm-dd>.<zip|tgz>`. */
export function exportFileName(account: string, mailbox: string | undefined, archive: string, now = new Date()): string {
  const box = mailbox === undefined ? '' : `-${mailbox.replaceAll('/', '-')}`;
  return `${account}${box}-${now.toISOString().slice(0, 10)}.${archive}`;
}

export function exportMethods(d: AccountSurfaceDeps) {
  return {
    mailboxes: accountMethod(z.object({}), (_i, { session }) =>
      withAccount(d, session.account, async (a): Promise<MailboxSummary[]> => {
        const out: MailboxSummary[] = [];
        for (const m of await a.listMailboxes()) {
          const s = await a.mailboxStatus(m.name);
          out.push({ name: m.name, specialUse: m.specialUse, messages: s.total, size: s.size });
        }
        return out;
      }),
    ),

    // A form post (ApiClient.download): fields are strings, the CSRF token is the form's csrf field.
    export: accountMethod(
      z.object({
        mailbox: z.string().max(1000).default(''), // '' for the whole account
        format: z.enum(exportFormats),
        archive: z.enum(exportArchives),
      }),
      ({ mailbox, format, archive }, { session, http }) =>
        withAccount(d, session.account, async (a): Promise<void> => {
          const box = mailbox === '' ? undefined : mailbox;
          // Headers go out with the first bytes: a mailbox that does not exist is still answered as a JSON error.
          const headers = {
            'Content-Type': archiveTypes[archive],
            'Content-Disposition': attachmentDisposition(exportFileName(session.account, box, archive)),
            'Cache-Control': 'no-store',
          };
          for (const [k, v] of Object.entries(headers)) http.res.setHeader(k, v);
          const started = Date.now();
          let clientGone = false; // the response closed before it was complete (exportMail's own failure closes it only after it rejects)
          http.res.once('close', () => (clientGone = !http.res.writableFinished));
          try {
            const r = await exportMail(a, { ...(box === undefined ? {} : { mailbox: box }), format, archive }, http.res); // ends the response
            http.log.info({ account: session.account, mailbox: box, format, archive, ...r, ms: Date.now() - started }, 'export downloaded');
          } catch (e) {
            if (!http.res.headersSent) {
              for (const k of Object.keys(headers)) http.res.removeHeader(k);
              throw e;
            }
            if (clientGone) {
              http.log.info({ account: session.account, ms: Date.now() - started }, 'export download stopped by the client');
              return;
            }
            throw e; // api.ts logs it; exportMail has cut the transfer
          }
        }),
    ),
  };
}
