// Public face of the application layer: the use cases every transport calls (the HTTP API and
// node door in server/, the CLI in bin/, the web pages), their context, errors and schemas.
export { ADMINS, CLERKS, DOCUMENT_READERS,  assertRole, type Role } from "./access.ts";
export { readAudit } from "./audit.ts";
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
  setStatus,
  type UploadedFile,
} from "./documents.ts";
export { AppError, type ErrorKind } from "./errors.ts";
export { preferredLanguage, translate } from "./i18n.ts";
export { startOrphanSweep } from "./files.ts";
export { assertMetricsReader } from "./metrics.ts";
export { databaseAnswers, isDraining, markDraining, refreshQueueMetrics } from "./ops.ts";
export { inboundScan, receivePacket } from "./receive.ts";
export { deleteAgency, listRegistry, registryEntry, saveAgency, subjectLine } from "./registry.ts";
export { registrySnapshot, startRegistrySync, syncSource, type RegistrySync } from "./snapshots.ts";
export {
  Agency,
  AgencyInput,
  AuditEntry,
  AuditQuery,
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
export {  addAgency,  firstStart, type BootstrapResult } from "./setup.ts";
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
export { addCrl, addTrustAnchors, watchTrustChanges } from "./trust.ts";
export { changePassword, checkCredentials, createUser, disableUser, listAgencyUsers } from "./users.ts";
export { exportEvidence, verifyUpload } from "./verify.ts";
