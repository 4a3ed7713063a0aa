// Public face of the edXML model: types, builder, validator, tolerant reader, strict parser, the
// streaming scanner for large packets, and the protocol rules (status flow, business targets).
export {
  BUSINESS_KINDS,
  EDXML_NS,
  STATUS_CODES,
  type AttachmentInfo,
  type Bussiness,
  type Edoc,
  type EdocHeader,
  type Packet,
  type StatusCode,
  type StatusPacket,
  type TraceHeader,
} from "./model.ts";
export { parseStrict, XmlError, DSIG_NS, XADES_NS, children, text, allElements, isComment, isCData } from "./xml.ts";
export { SIGNATURE_SLOT, attachmentSlot, formatCode, formatDate, formatTimestamp, renderEdoc, renderEdocTemplate, renderStatus, renderStatusTemplate } from "./build.ts";
export { ORGAN_ID_LENIENT, ORGAN_ID_STRICT, TIMESTAMP_SKEW_MS, ValidationError, parseVnTimestamp, validateEdoc, validateStatus } from "./validate.ts";
export { isStatusHeader, readAttachmentInfo, readBussiness, readEdocHeader, readManifest, readPacket, readStatusHeader, readTraceHeaders } from "./read.ts";
export { MAX_UNWRAPPED_BYTES, isZip, zipSingle } from "./attachment.ts";
export { ScanLimitError, packetScanner, scanPacket, readSource, regionText, regionBytes } from "./scan.ts";
export type { PacketSource, ContentRegion, ScanLimits } from "./scan.ts";
export { edocFromInput, attachmentInfoFor, peopleDateParts } from "./input.ts";
export { stripBidiControls } from "./names.ts";
export { AGENCY_STATUSES, VDXP_ENDPOINT, agencyName, agencyNameProblem, endpointBase, endpointProblem, organIdProblem, parentProblem } from "./agency.ts";
export { RECIPIENT_CODES, SENDER_CODES, businessTargets, statusProblem, statusSender } from "./flow.ts";
