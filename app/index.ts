// Public face of the application layer: the use cases every transport calls (the HTTP API and
// node door in server/, the CLI in bin/, the web pages), their context, errors and schemas.
export { ADMINS, CLERKS, DOCUMENT_READERS, ROLE_NAMES, assertRole, type Role } from "./access.ts";
export { readAudit } from "./audit.ts";
export { SetupError, configTable, loadConfig, type Config } from "./config.ts";
export { cliActor, openContext, tokenCaller, type AppContext, type Caller } from "./context.ts";
export { RECIPIENT_HEADER, retryDelay, startDeliveryWorker, type DeliveryWorker } from "./delivery.ts";
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
export { databaseAnswers, isDraining, markDraining, refreshQueueMetrics } from "./ops.ts";
export { receivePacket, type ReceiveOutcome } from "./receive.ts";
export { deleteAgency, listRegistry, registryEntry, registrySnapshot, saveAgency, startRegistrySync, subjectLine, syncSource, type RegistrySync, type SyncConfig } from "./registry.ts";
export {
  Agency,
  AgencyInput,
  AuditEntry,
  AuditQuery,
  DocumentMetadata,
  DocumentRecord,
  ErrorBody,
  MAX_PAGE_SIZE,
  ResendInput,
  SETTABLE_STATUS_CODES,
  SearchQuery,
  SearchResult,
  StatusInput,
  TokenInfo,
  TokenInput,
  UserInput,
  VerificationReport,
  VerifyQuery,
} from "./schemas.ts";
export { DEFAULT_ORGAN_ID, addAgency, devCaCertPath, firstStart, type BootstrapResult } from "./setup.ts";
export { authenticateToken, createApiToken, listApiTokens, revokeApiToken } from "./tokens.ts";
export { addCrl, addTrustAnchors, watchTrustChanges } from "./trust.ts";
export { changePassword, checkCredentials, createUser, disableUser, listAgencyUsers } from "./users.ts";
export { exportEvidence, verifyUpload } from "./verify.ts";
