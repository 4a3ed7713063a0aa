// Public face of the application layer: the use cases every transport calls (the HTTP API and
// node door in server/, the CLI in bin/, the web pages), their context, errors and schemas.
export { ADMINS, CLERKS, DOCUMENT_READERS,  assertRole, isNodeAdmin, type Role } from "./access.ts";
export { certificateView, deliveryQueue, localAgencyList, trustState, type CertificateView, type ExpiryLevel } from "./admin.ts";
export { backupNode } from "./backup.ts";
export { readAudit, linkAuditLog, startAuditChain, verifyAuditLog } from "./audit.ts";
export { DOCUMENT_KINDS, agencyNames, recipientChoices, sendComposed, suggestOutgoingNumber, type RecipientGroup } from "./compose.ts";
export { agencyIndicators, type Indicators } from "./indicators.ts";
export { SetupError, blobStoreSpec, loadConfig, type Config } from "./config.ts";
export { cliActor, openContext, tokenCaller, type AppContext, type Caller } from "./context.ts";
export { RECIPIENT_HEADER, retryDelay, startDeliveryWorker } from "./delivery.ts";
export {
  documentAttachment,
  documentPacket,
  documentRecord,
  documentRecords,
  ownDocument,
  resendDocument,
  searchAgencyDocuments,
  sendDocument,
  sendDocumentRecord,
  setStatus,
  type UploadedFile,
} from "./documents.ts";
export type { DocumentRow } from "../storage/index.ts";
export { documentList, documentView, readRegister, type Listed, type SignedView } from "./clerk.ts";
export { AppError, storageUnavailable, type ErrorKind } from "./errors.ts";
export { preferredLanguage, translate } from "./i18n.ts";
export { startOrphanSweep } from "./files.ts";
export { assertMetricsReader } from "./metrics.ts";
export { databaseAnswers, isDraining, markDraining, refreshQueueMetrics } from "./ops.ts";
export { inboundScan, receivePacket } from "./receive.ts";
export { deleteAgency, listRegistry, registryEntry, saveAgency, subjectLine } from "./registry.ts";
export { registrySnapshot, registrySyncStatus, startRegistrySync, syncSource, type RegistrySync } from "./snapshots.ts";
export {
  Agency,
  AgencyInput,
  AuditEntry,
  AuditQuery,
  CertificateConfirmation,
  DocumentMetadata,
  DocumentRecord,
  ErrorBody,
  
  ResendInput,
  
  SearchQuery,
  SearchResult,
  StatusInput,
  TokenInfo,
  TokenInput,
  
  VerificationReport,
  VerifyQuery,
} from "./schemas.ts";
export {  addAgency,  firstStart, hostAgency, type BootstrapResult } from "./setup.ts";
export {
  LANGUAGES,
  chooseLanguage,
  csrfToken,
  csrfTokenMatches,
  newVisitorId,
  sessionCaller,
  signIn,
  signOut,
  visitorSecret,
  type Language,
  type Session,
} from "./sessions.ts";
export { authenticateToken, createApiToken, listApiTokens, revokeApiToken } from "./tokens.ts";
export { addCrl, addCrlFile, addTrustAnchorFile, addTrustAnchors, watchTrustChanges } from "./trust.ts";
export { changePassword, checkCredentials, createUser, disableUser, listAgencyUsers } from "./users.ts";
export { confirmSeenCertificate, importDirectory, pollHub, startVdxpBridge } from "./vdxp.ts";
export { exportEvidence, verifyUpload } from "./verify.ts";
export { TimestampUnavailable, archiveRound, renewArchiveStamps, stampPacketFile, startTimestampJob, stampCheckpoints, stampPending } from "./timestamps.ts";
