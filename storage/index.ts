// Public face of storage: the database (SQLite or PostgreSQL through knex), blobs, local agencies
// and their identities, tokens, users, trust, registry, documents, statuses, the delivery queue and
// the audit log.
export { backupSqlite, databaseAnswers, openStorage, isCommitUnknown, isDatabaseUnavailable, isUniqueViolation, type Db, type Storage } from "./db.ts";
export { masterKey, open, seal } from "./keys.ts";
export { prepareBlob, prepareFile, preparedBytes, putBlob, putBlobs, storeBlobs, readBlob, blobBytes, blobSize, type PreparedBlob } from "./blobs.ts";
export { isBlobStoreUnavailable, migrateBlobs, openBlobStore, sweepBlobs, type BlobStoreSpec } from "./stores.ts";
export { addLocalAgency, listLocalAgencies, getLocalAgency, loadIdentity, type LocalAgency } from "./identities.ts";
export { countActiveTokens, createToken, listTokens, getToken, findToken, revokeToken, type TokenOwner } from "./tokens.ts";
export {
  ROLES,
  LANGUAGES,
  
  addUser,
  getUser,
  getUserByUsername,
  getUserCredentials,
  listUsers,
  setUserDisabled,
  setUserPassword,
  setUserLanguage,
  type Role,
  type Language,
  
  
} from "./users.ts";
export { addTrustAnchor, listTrustAnchors, addCrl, listCrls, loadTrust, trustVersion, type AnchorPurpose } from "./trust.ts";
export {
  upsertAgency,
  getAgency,
  listAgencies,
  deleteAgency,
  getSyncState,
  saveSyncState,
  getSyncRun,
  saveSyncNext,
  saveSyncRun,
  recordSeenCertificate,
  forgetSeenCertificate,
  type AgencyRecord,
  type SyncState,
} from "./registry.ts";
export { markRelayedDelivered, findStatusDelivery } from "./vdxp.ts";
export { unarchivedItems, addArchiveRound, archiveProofsFor, dueArchiveStamps, addArchiveRenewal } from "./archive.ts";
export { addPendingTimestamp, listPendingTimestamps, storeTimestamp, timestampRetryLater, getKeptTimestamp, keptTimestampsFor } from "./timestamps.ts";
export {
  audit,
  listAudit,
  AUDIT_GENESIS,
  auditRowHash,
  linkAudit,
  withChainLock,
  readChain,
  unlinkedAudit,
  addCheckpoint,
  listCheckpoints,
  latestCheckpoint,
  setCheckpointTimestamp,
  unstampedCheckpoints,
  type StoredCheckpoint,
} from "./audit.ts";
export {
  addSession,
  getSession,
  touchSession,
  deleteSession,
  deleteStaleSessions,
  addSignInFailure,
  forgetSignInAttempt,
  countSignInFailures,
  clearSignInFailures,
} from "./sessions.ts";
export {
  insertDocument,
  lockDocument,
  getDocument,
  getDocuments,
  findDocument,
  setDocumentStatus,
  markBusinessState,
  listAttachments,
  
  listAttachmentsFor,
  type Attachment,
  listRecipients,
  listRecipientsFor,
  addStatus,
  listStatuses,
  listStatusesFor,
  hasReceipt,
  
  searchDocuments,
  type DocumentRow,
  type StatusRow,
  
} from "./documents.ts";
export {
  enqueueDeliveries,
  claimedUnsent,
  listDeliveries,
  listDeliveriesFor,
  claimDeliveries,
  finishAttempt,
  resendFailed,
  setRecipientStatus,
  queueDepth,
  agencyQueueDepth,
  listTroubledDeliveries,
  type Delivery,
  type DeliveryClaim,
  type NewDelivery,
} from "./deliveries.ts";
export { HANDLING_OVER, dueDate, terms } from "./search.ts";
export { assignIncomingNumber, incomingBook, incomingNumbersFor, markRead, outgoingBook, readBy, type IncomingNumber } from "./registers.ts";
export { agencyDirectory, claimSendKey, documentForSendKey, outgoingCodes, documentsOfPeriod, type PeriodDocument } from "./outbox.ts";
