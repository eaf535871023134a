// Queue and Retired tabs: the outbound queue with filters, pages, actions per entry and on
// the entries ticked (hold, release, retry now or at a time, fail, drop); and the history
// of delivered and failed recipients with filters and pages. Filters and the page stay
// while moving between tabs.
import type { AdminApi } from '../../src/webadmin/index.ts';
import type { ApiResponse } from '../../src/http/index.ts';
import { h } from '../lib/dom.ts';
import { button, field, fmtBytes, fmtTime, form, section, status, type App, type Tab } from '../lib/ui.ts';
import { badge, dataTable, localTime, pager, select } from './widgets.ts';

type Api = App<AdminApi>['api'];
type Attempts = ApiResponse<AdminApi['queueAttempts']>;

const queueView = { account: '', from: '', to: '', held: '', offset: 0, limit: 50 };
const retiredView = { account: '', from: '', to: '', result: '', offset: 0, limit: 50 };

function filterInputs(v: { account: string; from: string; to: string }) {
  return {
    account: h('input', { name: 'account', value: v.account, size: 12 }),
    from: h('input', { name: 'from', value: v.from, size: 18, placeholder: 'part of the address' }),
    to: h('input', { name: 'to', value: v.to, size: 18, placeholder: 'address or domain' }),
  };
}

/** The delivery attempts of an entry, as a small table. */
function attemptsTable(attempts: Attempts): HTMLElement {
  return dataTable(['Time', 'Transport', 'Host', 'TLS', 'Result'], attempts.map((a) => ({
    cells: [fmtTime(a.time), a.transport, [a.mx ?? '', a.ip ? ` (${a.ip})` : ''], a.tls ?? '', a.success ? badge('delivered', 'ok') : [a.code ? `${a.code} ${a.enhanced ?? ''} ` : '', a.error ?? ''].join('')],
  })), { empty: 'No attempts yet.', class: 'attempts' });
}

/** A button that shows (or hides) the attempts of a row in a row below it. */
function historyButton(load: () => Promise<Attempts>, columns: number): HTMLButtonElement {
  let shown: HTMLTableRowElement | undefined;
  const b = button('History', async () => {
    if (shown) {
      shown.remove();
      shown = undefined;
      return;
    }
    const attempts = await load();
    const row = b.closest('tr');
    shown = h('tr.history', null, h('td', { colspan: columns }, attemptsTable(attempts)));
    row?.after(shown);
  });
  b.classList.add('small');
  return b;
}

export function queueTab(app: App<AdminApi>): Tab {
  return { id: 'queue', title: 'Queue', render: (main) => renderQueue(app, main) };
}

async function renderQueue(app: App<AdminApi>, main: HTMLElement): Promise<void> {
  const api: Api = app.api;
  const v = queueView;
  const p = await api.call('queueList', {
    ...(v.account ? { account: v.account } : {}), ...(v.from ? { from: v.from } : {}), ...(v.to ? { to: v.to } : {}),
    ...(v.held ? { held: v.held === 'held' } : {}), offset: v.offset, limit: v.limit,
  });
  if (p.items.length === 0 && v.offset > 0) {
    v.offset = Math.max(0, v.offset - v.limit); // the last page emptied by an action
    return app.refresh();
  }

  const f = filterInputs(v);
  const held = select('held', [['', 'any'], ['held', 'held'], ['notheld', 'not held']], v.held);
  const filters = form([field('Account', f.account), field('From', f.from), field('To', f.to), field('Held', held), h('button', { type: 'submit' }, 'Filter')], async () => {
    Object.assign(v, { account: f.account.value.trim(), from: f.from.value.trim(), to: f.to.value.trim(), held: held.value, offset: 0 });
    app.refresh();
  });
  filters.id = 'queue-filter';

  /** Runs an operation on some entries and reports how many it changed. */
  const act = async (what: string, ids: number[], op: (ids: number[]) => Promise<{ count: number }>) => {
    if (ids.length === 0) throw new Error('tick one or more entries first');
    const r = await op(ids);
    status(`${what}: ${r.count} of ${ids.length} entr${ids.length === 1 ? 'y' : 'ies'}${r.count < ids.length ? ' (the others are being delivered, or were already so)' : ''}.`);
    app.refresh();
  };
  const ops = {
    hold: (ids: number[]) => act('Held', ids, (i) => api.call('queueHold', { ids: i })),
    release: (ids: number[]) => act('Released', ids, (i) => api.call('queueRelease', { ids: i })),
    retry: (ids: number[]) => act('Next attempt now', ids, (i) => api.call('queueSchedule', { ids: i })),
    at: (ids: number[], at: number) => act(`Next attempt at ${fmtTime(at)}`, ids, (i) => api.call('queueSchedule', { ids: i, at })),
    fail: (ids: number[]) => act('Failed (DSN sent)', ids, (i) => api.call('queueFail', { ids: i })),
    drop: (ids: number[]) => act('Dropped', ids, (i) => api.call('queueDrop', { ids: i })),
  };

  const all = h('input', { type: 'checkbox', name: 'select-all', title: 'Select all on this page' });
  const boxes = p.items.map((e) => h('input', { type: 'checkbox', name: 'select', value: String(e.id) }));
  all.addEventListener('change', () => boxes.forEach((b) => (b.checked = all.checked)));
  const ticked = () => boxes.filter((b) => b.checked).map((b) => Number(b.value));
  const at = h('input', { type: 'datetime-local', name: 'at' });
  const bulk = h('div#queue-bulk.bulk', null,
    h('span.hint', null, 'Ticked entries:'),
    button('Hold', () => ops.hold(ticked())),
    button('Release', () => ops.release(ticked())),
    button('Retry now', () => ops.retry(ticked())),
    h('span.row', null, at, button('Reschedule', () => {
      const t = localTime(at.value);
      if (t === undefined) throw new Error('choose a date and time to reschedule to');
      return ops.at(ticked(), t);
    })),
    button('Fail', () => ops.fail(ticked()), { kind: 'danger', confirm: 'Fail the ticked entries now? Their senders get a failure DSN.' }),
    button('Drop', () => ops.drop(ticked()), { kind: 'danger', confirm: 'Drop the ticked entries? No DSN is sent and no history kept.' }));

  const columns = 10;
  const rows = p.items.map((e, i) => ({
    attrs: { 'data-entry': String(e.id), 'data-held': String(e.held) },
    cells: [
      boxes[i]!,
      e.id,
      h('span.addr', null, e.mailFrom || '<>'),
      h('span.addr', null, e.recipient),
      e.account || '–',
      fmtBytes(e.size),
      fmtTime(e.submitted),
      [String(e.attempts), e.lastError ? h('div.error-text', null, e.lastError) : null],
      [e.held ? badge('held', 'held') : null, ' ', fmtTime(e.nextAttempt)],
      h('span.actions', null,
        e.held ? button('Release', () => ops.release([e.id])) : button('Hold', () => ops.hold([e.id])),
        button('Retry now', () => ops.retry([e.id])),
        historyButton(() => api.call('queueAttempts', { id: e.id }), columns),
        button('Fail', () => ops.fail([e.id]), { kind: 'danger', confirm: `Fail entry ${e.id} now? ${e.mailFrom || 'The sender'} gets a failure DSN.` }),
        button('Drop', () => ops.drop([e.id]), { kind: 'danger', confirm: `Drop entry ${e.id}? No DSN is sent and no history kept.` })),
    ],
  }));
  const table = dataTable(['', 'ID', 'From', 'To', 'Account', 'Size', 'Submitted', 'Attempts', 'Next attempt', ''], rows, { empty: v.account || v.from || v.to || v.held ? 'No queue entries match.' : 'The queue is empty.', id: 'queue-table', class: 'queue' });
  const head = table.querySelector('th');
  if (head) head.append(all);
  main.append(
    section('Filter', filters),
    section(`Queue (${p.total})`, p.items.length ? bulk : null, table, p.total > v.limit ? pager({ total: p.total, offset: p.offset, shown: p.items.length, limit: v.limit }, (o) => {
      v.offset = o;
      app.refresh();
    }) : null),
  );
  for (const b of main.querySelectorAll('.actions button, .bulk button')) b.classList.add('small');
}

export function retiredTab(app: App<AdminApi>): Tab {
  return { id: 'retired', title: 'Retired', render: (main) => renderRetired(app, main) };
}

async function renderRetired(app: App<AdminApi>, main: HTMLElement): Promise<void> {
  const v = retiredView;
  const p = await app.api.call('retiredList', {
    ...(v.account ? { account: v.account } : {}), ...(v.from ? { from: v.from } : {}), ...(v.to ? { to: v.to } : {}),
    ...(v.result ? { success: v.result === 'delivered' } : {}), offset: v.offset, limit: v.limit,
  });
  const f = filterInputs(v);
  const result = select('result', [['', 'any'], ['delivered', 'delivered'], ['failed', 'failed']], v.result);
  const filters = form([field('Account', f.account), field('From', f.from), field('To', f.to), field('Result', result), h('button', { type: 'submit' }, 'Filter')], async () => {
    Object.assign(v, { account: f.account.value.trim(), from: f.from.value.trim(), to: f.to.value.trim(), result: result.value, offset: 0 });
    app.refresh();
  });
  filters.id = 'retired-filter';
  const columns = 8;
  const table = dataTable(['ID', 'Retired', 'From', 'To', 'Account', 'Result', 'Attempts', ''], p.items.map((r) => ({
    attrs: { 'data-entry': String(r.id), 'data-success': String(r.success) },
    cells: [
      r.id,
      fmtTime(r.retired),
      h('span.addr', null, r.mailFrom || '<>'),
      h('span.addr', null, r.address),
      r.account || '–',
      [r.success ? badge('delivered', 'ok') : badge('failed', 'failed'), r.lastError ? h('div.error-text', null, r.lastError) : null],
      r.attempts,
      historyButton(() => app.api.call('retiredAttempts', { id: r.id }), columns),
    ],
  })), { empty: 'Nothing retired matches.', id: 'retired-table' });
  main.append(
    section('Filter', filters),
    section(`Retired (${p.total})`, h('p.hint', null, 'Recipients delivered or failed, newest first; kept for the configured time.'), table, p.total > v.limit ? pager({ total: p.total, offset: p.offset, shown: p.items.length, limit: v.limit }, (o) => {
      v.offset = o;
      app.refresh();
    }) : null),
  );
  for (const b of main.querySelectorAll('td button')) b.classList.add('small');
}
