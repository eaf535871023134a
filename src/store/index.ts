// Public surface of the message store: accounts, mailboxes, messages, flags, UIDs,
// MODSEQs, quotas, the change feed and the consistency checker. Backend-neutral: the
// embedded SQLite + files backend is behind openStore().
export { openStore } from './store.ts';
export { verifyAccount, verifyData } from './verify.ts';
export { StoreError, isStoreError, storeErrorCodes, type StoreErrorCode } from './errors.ts';
export { hierarchySeparator, specialUses, systemFlags } from './types.ts';
export { canonicalMailboxName, parentNames } from './names.ts';
export { isKeyword } from './flags.ts';
export { metadataLimits } from './account.ts';
export type {
  Account, Added, AppendInput, AuthStore, ByteRange, ChangeEvent, ChangeFeed, ChangeListener, DeliverInput, FlagChange, FlagResult, FlagsUpdated,
  MailboxInfo, MailboxStatus, MessageAttributes, MessageMeta, MessageQuery, MessageRow, MetadataEntry, ModSeq, QueueInput, QueuedMessage, QueuedRecipient, QueueStore, DeliveryAttempt, AttemptOutcome, RetiredRecipient, RetiredQuery, HoldRule, Suppression, TlsResult, TlsResultCount, SubmissionCounts, TlsPublicKey, WebSession, LoginAttempt, Quota, SpecialUse, Store, SystemFlag, Uid, UidMapping, UidSet, VerifyReport,
} from './types.ts';
