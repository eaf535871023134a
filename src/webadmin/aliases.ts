// Admin methods for aliases and lists: list, add (members and the AliasOptions flags),
// remove, add and remove members. src/config's edit functions check the addresses.
import { z } from 'zod';
import { addAlias, aliasAddMembers, aliasRemoveMembers, removeAlias } from '../config/index.ts';
import { adminMethod, type AdminSurfaceDeps } from './method.ts';

const address = z.string().trim().min(1).max(320);
const members = z.array(address).min(1).max(1000);

export interface AliasSummary {
  address: string; // canonical 'local@domain'
  members: string[]; // addresses of accounts
  postPublic: boolean; // anyone may send to it, not only members
  listMembers: boolean; // members can see the other members
  allowMsgFrom: boolean; // members may send with the alias as From
}

export function aliasMethods(d: AdminSurfaceDeps) {
  return {
    aliases: adminMethod(z.object({}), (): AliasSummary[] =>
      Object.entries(d.domains().aliases)
        .map(([addr, a]) => ({ address: addr, members: a.members, postPublic: a.postPublic, listMembers: a.listMembers, allowMsgFrom: a.allowMsgFrom }))
        .sort((a, b) => a.address.localeCompare(b.address))),

    aliasAdd: adminMethod(
      z.object({ address, members, postPublic: z.boolean().optional(), listMembers: z.boolean().optional(), allowMsgFrom: z.boolean().optional() }),
      async ({ address: addr, members: m, postPublic, listMembers, allowMsgFrom }) => {
        await addAlias(d.config, addr, m, { postPublic, listMembers, allowMsgFrom });
        return {};
      },
    ),

    aliasRemove: adminMethod(z.object({ address }), async ({ address: addr }) => {
      await removeAlias(d.config, addr);
      return {};
    }),

    aliasAddMembers: adminMethod(z.object({ address, members }), async ({ address: addr, members: m }) => {
      await aliasAddMembers(d.config, addr, m);
      return {};
    }),

    /** Refused when no member would be left: remove the alias instead. */
    aliasRemoveMembers: adminMethod(z.object({ address, members }), async ({ address: addr, members: m }) => {
      await aliasRemoveMembers(d.config, addr, m);
      return {};
    }),
  };
}
