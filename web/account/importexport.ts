// Import/Export tab. Export: the whole account or one mailbox as mbox or maildir in a zip or
// tgz, downloaded by a form post. Import: a zip/tgz (or a single mbox) uploaded with a
// progress bar, then imported in the background with progress over Server-Sent Events;
// the result lists every file that could not be imported and why. A page opened while an
// import runs (or reloaded) follows it.
import type { AccountApi, ImportEvent, ImportStatus, MailboxSummary } from '../../src/webaccount/index.ts';
import { exportArchives, exportFormats, maxImportBytes, type ExportArchive, type ExportFormat } from '../../src/webaccount/limits.ts';
import { formFields, h, replace } from '../lib/dom.ts';
import { errorText, field, fmtBytes, form, run, section, status, table, type App, type Tab } from '../lib/ui.ts';

type Progress = Extract<ImportEvent, { type: 'progress' }>['progress'];
/** The pause before following an import again after its event stream was refused. */
const refollowMs = 5000;
type Result = Extract<ImportEvent, { type: 'done' }>['result'];

const formatLabels: Record<ExportFormat, string> = { mbox: 'mbox (one file per mailbox)', maildir: 'Maildir (one file per message)' };
const archiveLabels: Record<ExportArchive, string> = { zip: 'zip', tgz: 'tgz (tar.gz)' };

export function importExportTab(app: App<AccountApi>): Tab {
  return {
    id: 'importexport',
    title: 'Import/Export',
    async render(main) {
      const [mailboxes, current] = await Promise.all([app.api.call('mailboxes', {}), app.api.call('importStatus', {})]);
      const mailboxSelect = h('select', { name: 'mailbox' });
      const showMailboxes = (list: MailboxSummary[]) => {
        const chosen = mailboxSelect.value;
        replace(mailboxSelect,
          h('option', { value: '' }, 'Whole account'),
          list.map((m) => h('option', { value: m.name }, `${m.name} (${m.messages} message${m.messages === 1 ? '' : 's'}, ${fmtBytes(m.size)})`)));
        mailboxSelect.value = list.some((m) => m.name === chosen) ? chosen : '';
      };
      showMailboxes(mailboxes);
      const exportForm = form([
        field('Mailbox', mailboxSelect),
        field('Format', h('select', { name: 'format' }, exportFormats.map((f) => h('option', { value: f }, formatLabels[f])))),
        field('Archive', h('select', { name: 'archive' }, exportArchives.map((a) => h('option', { value: a }, archiveLabels[a])))),
        h('button.primary', { type: 'submit', id: 'export-download' }, 'Download'),
      ], async (el) => {
        const fields = formFields(el);
        await app.api.call('mailboxes', {}); // a session first: the download itself is a form post that cannot log in and retry
        app.api.download('export', fields);
        status('Export started: your browser saves the file.');
      });
      exportForm.id = 'export-form';

      const importer = new Importer(app, async () => showMailboxes(await app.api.call('mailboxes', {})));
      main.append(
        section('Export', h('p.hint', null, 'Flags and keywords are kept: in mbox as Status, X-Status and X-Keywords header fields, in Maildir in the file names and dovecot-keywords (as Dovecot writes them).'), exportForm),
        section('Import', importer.el),
      );
      if (current.import) importer.follow(current.import, true);
    },
  };
}

/** The import form, its two progress bars (upload, then import) and the result. */
class Importer {
  readonly el: HTMLElement;
  readonly #app: App<AccountApi>;
  readonly #form: HTMLFormElement;
  readonly #file: HTMLInputElement;
  readonly #progress = h('div#import-progress.import-progress', { hidden: true });
  readonly #result = h('div#import-result', { hidden: true });
  readonly #imported: () => Promise<void>;
  #events: EventSource | undefined;

  /** imported: called after an import ended, e.g. to list the new mailboxes for export. */
  constructor(app: App<AccountApi>, imported: () => Promise<void>) {
    this.#app = app;
    this.#imported = imported;
    this.#file = h('input', { type: 'file', name: 'file', id: 'import-file', required: true, accept: '.zip,.tgz,.tar.gz,.tar,.gz,.mbox,application/zip,application/gzip,application/x-tar' });
    this.#form = form([
      field('Archive', this.#file, `A zip or tgz of mbox files or Maildir folders (a Dovecot dovecot-keywords file is read for keywords), or a single mbox file. At most ${fmtBytes(maxImportBytes)}.`),
      h('button.primary', { type: 'submit', id: 'import-start' }, 'Import'),
    ], () => this.#start());
    this.#form.id = 'import-form';
    this.el = h('div', null, h('p.hint', null, 'Messages are added to mailboxes of the same names, created when missing; nothing already in the account is changed.'), this.#form, this.#progress, this.#result);
  }

  async #start(): Promise<void> {
    if (this.#events) throw new Error('an import is running; wait for it to finish');
    const f = this.#file.files?.[0];
    if (!f) throw new Error('choose a file first');
    if (f.size > maxImportBytes) throw new Error(`${f.name} is ${fmtBytes(f.size)}; at most ${fmtBytes(maxImportBytes)} can be imported at once`);
    const { import: running } = await this.#app.api.call('importStatus', {});
    if (running?.state === 'running') {
      this.follow(running, false);
      throw new Error('an import is already running; wait for it to finish');
    }
    this.#result.hidden = true;
    const bar = h('progress#import-upload-bar', { max: 1, value: 0 });
    const label = h('span#import-phase', null, `Uploading ${f.name} (${fmtBytes(f.size)})…`);
    replace(this.#progress, label, bar);
    this.#progress.hidden = false;
    this.#progress.dataset['state'] = 'uploading';
    try {
      const { id } = await this.#app.api.upload<{ id: string }>(`import?name=${encodeURIComponent(f.name)}`, f, (fraction) => (bar.value = fraction));
      this.follow({ id, state: 'running', started: Date.now(), size: f.size, fileName: f.name, progress: { done: 0, fraction: 0 } }, false);
    } catch (e) {
      this.#progress.hidden = true;
      throw e;
    }
  }

  /** Shows an import's state and, while it runs, follows its events. */
  follow(s: ImportStatus, earlier: boolean): void {
    this.#events?.close();
    if (s.state === 'done' && s.result) return this.#done(s.result, earlier);
    if (s.state === 'error') return this.#failed(s.error ?? 'the import failed', earlier);
    const bar = h('progress#import-bar', { max: 1 });
    const label = h('span#import-phase', null, 'Importing…');
    const current = h('span#import-current.hint', null);
    replace(this.#progress, label, bar, current);
    this.#progress.hidden = false;
    this.#progress.dataset['state'] = 'importing';
    const show = (p: Progress) => {
      bar.value = p.fraction;
      replace(label, `Importing ${s.fileName || 'the file'}: ${p.done}${p.total === undefined ? '' : ` of ${p.total}`} message${(p.total ?? p.done) === 1 ? '' : 's'} imported`);
      replace(current, p.current ? ` ${p.current}` : '');
    };
    show(s.progress);
    this.#file.disabled = true; // the buttons are run()'s to enable; #start refuses while #events is set
    const es = new EventSource(`events/import?id=${encodeURIComponent(s.id)}`);
    this.#events = es;
    const data = (e: Event) => JSON.parse((e as MessageEvent<string>).data) as unknown;
    es.addEventListener('progress', (e) => show((data(e) as { progress: Progress }).progress));
    es.addEventListener('done', (e) => {
      es.close();
      this.#done((data(e) as { result: Result }).result, false);
    });
    es.addEventListener('error', (e) => {
      if (e instanceof MessageEvent && typeof e.data === 'string') {
        es.close();
        return this.#failed((data(e) as { message: string }).message, false);
      }
      if (es.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
      // Refused (no session: expired or logged out; or too many pages following): ask for the state, logging in first
      // when needed, and follow again after a pause, so that a refusal does not become a loop of requests.
      void run(this.#form, async () => {
        const { import: now } = await this.#app.api.call('importStatus', {});
        if (now?.id !== s.id) return this.#failed('the import is no longer known to the server', false);
        if (now.state !== 'running') return this.follow(now, false);
        await new Promise((resolve) => setTimeout(resolve, refollowMs));
        if (this.#events === es) this.follow(now, false);
      });
    });
  }

  #done(r: Result, earlier: boolean): void {
    this.#finish();
    const failed = r.errors.length + (r.moreErrors ?? 0);
    const errors = failed === 0 ? h('p#import-no-errors', null, 'Every file was imported.') : [
      h('h3', null, `${failed} file${failed === 1 ? '' : 's'} or message${failed === 1 ? '' : 's'} could not be imported`),
      table(['File', 'Problem'], r.errors.map((x) => [h('code', null, x.file), x.message])),
      r.moreErrors ? h('p#import-more-errors.hint', null, `…and ${r.moreErrors} more, not listed.`) : null,
    ];
    replace(this.#result,
      h('p#import-summary', { 'data-imported': r.imported },
        `${earlier ? 'Your last import: ' : ''}${r.imported} message${r.imported === 1 ? '' : 's'} imported`,
        r.mailboxes.length ? ` into ${r.mailboxes.join(', ')}.` : '.'),
      // Stopped early (quota, a broken archive, the server stopping): what was imported stays, and this says where it ended.
      r.fatal === undefined ? null : h('p#import-fatal.status.error', null, `The import stopped before the end: ${r.fatal}. The messages imported until then stay in the account.`),
      errors);
    this.#result.dataset['state'] = 'done';
    this.#result.hidden = false;
    const list = this.#result.querySelector('table');
    if (list) list.id = 'import-errors';
    if (!earlier) void this.#imported().catch((e: unknown) => status(errorText(e), 'error'));
    const clean = failed === 0 && r.fatal === undefined;
    if (!earlier) status(clean ? 'Import done.' : 'Import done, with errors: see below.', clean ? 'ok' : 'error');
    this.#result.dataset['errors'] = String(failed);
  }

  #failed(message: string, earlier: boolean): void {
    this.#finish();
    replace(this.#result, h('p#import-failed.status.error', null, `${earlier ? 'Your last import failed: ' : 'The import failed: '}${message}`));
    this.#result.dataset['state'] = 'error';
    this.#result.hidden = false;
  }

  #finish(): void {
    this.#events?.close();
    this.#events = undefined;
    this.#progress.hidden = true;
    this.#progress.dataset['state'] = '';
    this.#file.disabled = false;
    this.#form.reset();
  }
}
