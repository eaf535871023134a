// `mailcove config domain|address|alias ...`: edits of domains.conf through the same
// functions the admin page calls (src/config edit.ts); each refusal is printed as the
// config error it is (file, key, what is wrong) and the file is left unchanged.
import type { Config, DomainsConfig } from '../config/index.ts';
import { normalizeDomain, addDomain, removeDomain, addAddress, removeAddress, addAlias, removeAlias, aliasAddMembers, aliasRemoveMembers } from '../config/index.ts';
import type { Command, OptionSpec, OptionValues } from './command.ts';

/** What the command table provides: its --config/--dir options and how it loads the config they name. */
export interface DomainCommandsDeps {
  options: Record<string, OptionSpec>;
  load(options: OptionValues): Promise<Config>;
}

/** One line per alias: address, members (space-separated), flags (comma-separated, '-' for none). */
export function formatAliases(c: DomainsConfig): string {
  return Object.entries(c.aliases)
    .map(([address, a]) => {
      const flags = [a.postPublic && 'public', a.listMembers && 'list-members', a.allowMsgFrom && 'allow-msg-from'].filter((f) => typeof f === 'string');
      return `${address}\t${a.members.join(' ')}\t${flags.join(',') || '-'}\n`;
    })
    .join('');
}

export function domainCommands({ options, load }: DomainCommandsDeps): Command[] {
  return [
    {
      name: 'config domain add',
      args: 'DOMAIN',
      minArgs: 1,
      maxArgs: 1,
      summary: 'Add a domain to domains.conf (stored as its lowercase U-label); set up DKIM with config dkim gen and DNS with config dnsrecords.',
      options: { ...options, separator: { type: 'string', valueName: 'S', multiple: true, description: "sub-addressing separator (RFC 5233), e.g. '-' (default '+')" } },
      run: async ({ args, options: o, stdout }) => {
        const [name] = args as [string];
        const sep = o['separator'];
        await addDomain(await load(o), name, Array.isArray(sep) ? { localpartCatchallSeparator: sep } : {});
        const n = normalizeDomain(name);
        stdout.write(`domain ${'domain' in n ? n.domain : name} added\n`);
      },
    },
    {
      name: 'config domain rm',
      args: 'DOMAIN',
      minArgs: 1,
      maxArgs: 1,
      summary: 'Remove a domain from domains.conf; refused while accounts, addresses or aliases use it (they are listed). DKIM key files stay.',
      options: { ...options },
      run: async ({ args, options: o, stdout }) => {
        await removeDomain(await load(o), args[0]!);
        stdout.write(`domain ${args[0]} removed\n`);
      },
    },
    {
      name: 'config address add',
      args: 'ACCOUNT ADDRESS',
      minArgs: 2,
      maxArgs: 2,
      summary: "Add an address to an account: localpart@domain, a bare localpart at the account's domain, or @domain for the domain's catch-all.",
      options: { ...options },
      run: async ({ args, options: o, stdout }) => {
        const [account, address] = args as [string, string];
        await addAddress(await load(o), account, address);
        stdout.write(`address ${address} added to account ${account}\n`);
      },
    },
    {
      name: 'config address rm',
      args: 'ADDRESS',
      minArgs: 1,
      maxArgs: 1,
      summary: "Remove an address from its account; refused for an account's last address and while an alias has it as member.",
      options: { ...options },
      run: async ({ args, options: o, stdout }) => {
        await removeAddress(await load(o), args[0]!);
        stdout.write(`address ${args[0]} removed\n`);
      },
    },
    {
      name: 'config alias list',
      args: '',
      minArgs: 0,
      maxArgs: 0,
      summary: "List the aliases: address, members, flags (public, list-members, allow-msg-from; '-' for none).",
      options: { ...options },
      run: async ({ options: o, stdout }) => {
        stdout.write(formatAliases((await load(o)).domains));
      },
    },
    {
      name: 'config alias add',
      args: 'ADDRESS MEMBER...',
      minArgs: 2,
      maxArgs: Infinity,
      summary: 'Add an alias or list: messages to ADDRESS go to every MEMBER (addresses of accounts).',
      options: {
        ...options,
        public: { type: 'boolean', description: 'anyone may send to the alias (default: only members)' },
        'list-members': { type: 'boolean', description: 'members can see the other members' },
        'allow-msg-from': { type: 'boolean', description: 'members may send with the alias as From address' },
      },
      run: async ({ args, options: o, stdout }) => {
        const [address, ...members] = args as [string, ...string[]];
        await addAlias(await load(o), address, members, { postPublic: o['public'] === true, listMembers: o['list-members'] === true, allowMsgFrom: o['allow-msg-from'] === true });
        stdout.write(`alias ${address} added\n`);
      },
    },
    {
      name: 'config alias rm',
      args: 'ADDRESS',
      minArgs: 1,
      maxArgs: 1,
      summary: 'Remove an alias.',
      options: { ...options },
      run: async ({ args, options: o, stdout }) => {
        await removeAlias(await load(o), args[0]!);
        stdout.write(`alias ${args[0]} removed\n`);
      },
    },
    {
      name: 'config alias addmembers',
      args: 'ADDRESS MEMBER...',
      minArgs: 2,
      maxArgs: Infinity,
      summary: 'Add members (addresses of accounts) to an alias.',
      options: { ...options },
      run: async ({ args, options: o, stdout }) => {
        const [address, ...members] = args as [string, ...string[]];
        await aliasAddMembers(await load(o), address, members);
        stdout.write(`${members.length} member(s) added to alias ${address}\n`);
      },
    },
    {
      name: 'config alias rmmembers',
      args: 'ADDRESS MEMBER...',
      minArgs: 2,
      maxArgs: Infinity,
      summary: 'Remove members from an alias; refused when none would be left (remove the alias instead).',
      options: { ...options },
      run: async ({ args, options: o, stdout }) => {
        const [address, ...members] = args as [string, ...string[]];
        await aliasRemoveMembers(await load(o), address, members);
        stdout.write(`${members.length} member(s) removed from alias ${address}\n`);
      },
    },
  ];
}
