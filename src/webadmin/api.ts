// The admin API (`POST /admin/api/<method>`): one table of methods made from each concern's
// part. Every method needs the admin session and its CSRF token; login and logout are built
// in (src/http). Its type, AdminApi, is what web/admin imports.
import { defineApi } from '../http/index.ts';
import { accountMethods, type DataRemovals } from './accounts.ts';
import { aliasMethods } from './aliases.ts';
import { domainMethods } from './domains.ts';
import type { AdminSurfaceDeps } from './method.ts';
import { queueMethods } from './queue.ts';
import { systemMethods } from './system.ts';

export function adminApi(d: AdminSurfaceDeps, removals: DataRemovals) {
  return defineApi({
    ...systemMethods(d), // overview, loginAttempts, logLevels, logLevelSet
    ...domainMethods(d), // domains, domain, domainAdd/Remove/Settings, domainCatchallSet/Remove, dkimGenerate, dnsRecords, dnsCheck
    ...accountMethods(d, removals), // accounts, account, accountAdd/Remove, addressAdd/Remove, accountSet*, accountDisable/EnableLogin
    ...aliasMethods(d), // aliases, aliasAdd/Remove, aliasAddMembers/RemoveMembers
    ...queueMethods(d), // queue*, retired*, holdRule*, suppression*
  });
}

export type AdminApi = ReturnType<typeof adminApi>;
