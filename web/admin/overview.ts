// Overview tab: the server's version, host name and uptime, and how many domains, accounts,
// aliases and queue entries there are (each a link to its tab).
import type { AdminApi } from '../../src/webadmin/index.ts';
import { h } from '../lib/dom.ts';
import { fmtTime, section, type App, type Tab } from '../lib/ui.ts';

/** 3 d 4 h, 5 h 10 min, 42 s. */
function fmtDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const hrs = Math.floor((seconds % 86400) / 3600);
  const min = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d} d ${hrs} h`;
  if (hrs > 0) return `${hrs} h ${min} min`;
  if (min > 0) return `${min} min`;
  return `${seconds} s`;
}

export function overviewTab(app: App<AdminApi>): Tab {
  return {
    id: 'overview',
    title: 'Overview',
    async render(main) {
      const o = await app.api.call('overview', {});
      const card = (n: number | undefined, label: string, href: string, key: string) => h('a.card', { href, 'data-count': key }, h('span.n', null, n === undefined ? '–' : String(n)), h('span.label', null, label));
      main.append(
        section('Server',
          h('dl#server-info.kv', null,
            h('dt', null, 'Host name'), h('dd', null, o.hostname),
            h('dt', null, 'Version'), h('dd', { 'data-field': 'version' }, o.version),
            h('dt', null, 'Running since'), h('dd', null, fmtTime(o.startedAt)),
            h('dt', null, 'Uptime'), h('dd', { 'data-field': 'uptime' }, fmtDuration(o.uptimeSeconds)))),
        section('Configuration and queue',
          h('div.cards', null,
            card(o.counts.domains, 'domains', '#domains', 'domains'),
            card(o.counts.accounts, 'accounts', '#accounts', 'accounts'),
            card(o.counts.aliases, 'aliases', '#aliases', 'aliases'),
            card(o.counts.queued, o.counts.queued === undefined ? 'queue not running' : 'queued', '#queue', 'queued'),
            card(o.counts.held, 'held', '#queue', 'held'))),
      );
    },
  };
}
