// A running SMTP server for this folder's tests: config files and data in a temp
// directory, the store, and all three services on free loopback ports. Test-only.
import type { Config, DynamicConfig } from '../config/index.ts';
import { MemoryResolver, type Resolver } from '../dns/index.ts';
import type { Store } from '../store/index.ts';
import { loopbackStatic, serverDir } from '../../test/serverdir.ts';
import type { SmtpContext } from './context.ts';
import { startSmtp, type RunningSmtp } from './start.ts';
import { SmtpTestClient } from './testclient.ts';
import { AccountCache } from './accounts.ts';
import { Queue, type QueueOptions } from '../queue/index.ts';

export const testPassword = 'test1234 secret';

export const staticText = loopbackStatic('smtp', 'submission', 'submissions');

export const domainsText = `domains:
  example.com:
    localpartCatchallSeparator: +
  example.org: {}
accounts:
  mjl:
    domain: example.com
    destinations:
      mjl@example.com: {}
      postmaster@example.com: {}
      news@example.com:
        mailbox: News
        rulesets:
          - headersRegexp: { '^list-id$': 'important' }
            mailbox: Important
  other:
    domain: example.com
    destinations:
      other@example.com: {}
      '@example.org': {}
aliases:
  team@example.com:
    members: [mjl@example.com, other@example.com]
    postPublic: true
  closed@example.com:
    members: [other@example.com]
`;

export interface SmtpFixture {
  dir: string;
  config: Config;
  store: Store;
  domains: DynamicConfig;
  smtp: RunningSmtp;
  queue: Queue | undefined;
  port(service: 'smtp' | 'submission' | 'submissions'): number;
  connect(service: 'smtp' | 'submission' | 'submissions', o?: { ehlo?: string; starttls?: boolean; auth?: boolean }): Promise<SmtpTestClient>;
  /** Messages in an account's mailbox, as text. */
  messages(account: string, mailbox?: string): Promise<string[]>;
  done(): Promise<void>;
}

export async function smtpFixture(o: { domains?: string; static?: string; localserve?: boolean; context?: Partial<SmtpContext>; resolver?: Resolver; queue?: boolean | Partial<QueueOptions> } = {}): Promise<SmtpFixture> {
  const sd = await serverDir({ prefix: 'mailcove-smtp-', static: o.static ?? staticText, domains: o.domains ?? domainsText, password: testPassword });
  const { dir, config, store, domains } = sd;
  const smtp = await startSmtp({
    config, store, domains, resolver: o.resolver ?? new MemoryResolver(),
    ...(o.localserve ? { localserve: { account: Object.keys(config.domains.accounts)[0]!, simulatedTimeoutMs: 200 } } : {}),
    context: { unknownRecipientDelayMs: 0, ...o.context, authFailures: o.context?.authFailures ?? (await import('../sasl/index.ts')).authFailureLimiter({ delayMs: 0 }) },
    ports: { smtp: 0, submission: 0, submissions: 0 },
  });
  const port = (service: 'smtp' | 'submission' | 'submissions') => smtp.addresses.find((a) => a.service === service)!.port;
  const accounts = new AccountCache(store);
  const queue = o.queue || o.localserve
    ? Queue.start({
      store, static: config.static, configDir: dir, domains: () => domains.current(), resolver: o.resolver ?? new MemoryResolver(), accounts,
      ...(o.localserve ? { localserve: { account: Object.keys(config.domains.accounts)[0]!, timeoutMs: 200 } } : {}), ...(typeof o.queue === 'object' ? o.queue : {}),
    })
    : undefined;
  return {
    dir, config, store, domains, smtp, port, queue,
    async connect(service, c = {}) {
      const client = await SmtpTestClient.connect(port(service), service === 'submissions' ? { tls: { servername: 'localhost' } } : {});
      await client.expect(220);
      if (c.starttls) {
        await client.command('EHLO client.example', 250);
        await client.starttls();
      }
      if (c.ehlo !== undefined || c.auth) await client.command(`EHLO ${c.ehlo ?? 'client.example'}`, 250);
      if (c.auth) await client.command(`AUTH PLAIN ${Buffer.from(`\0mjl@example.com\0${testPassword}`).toString('base64')}`, 235);
      return client;
    },
    async messages(account, mailbox = 'INBOX') {
      const a = await store.openAccount(account);
      try {
        const rows = await a.messages(mailbox);
        const out: string[] = [];
        for (const r of rows) {
          const chunks: Buffer[] = [];
          for await (const c of await a.openMessage(r.messageId)) chunks.push(c as Buffer);
          out.push(Buffer.concat(chunks).toString('utf8'));
        }
        return out;
      } finally {
        await a.close();
      }
    },
    async done() {
      await smtp.close(500);
      await queue?.stop();
      await accounts.close();
      await sd.remove();
    },
  };
}
