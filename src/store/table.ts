// A table kept in a database written through its group commit (the auth database's
// tables: TLS public keys, web sessions). Its own file: schema.ts imports the tables'
// schemas, and groupcommit.ts imports schema.ts.
import type { DatabaseSync } from 'node:sqlite';
import type { GroupCommit } from './groupcommit.ts';

export abstract class CommittedTable {
  protected readonly db: DatabaseSync;
  protected readonly commit: GroupCommit;
  constructor(db: DatabaseSync, commit: GroupCommit) {
    this.db = db;
    this.commit = commit;
  }
}
