// Public face of the edXML model: types, builder, validator, tolerant reader, strict parser and
// the streaming scanner for large packets.
export * from "./model.ts";
export { parseStrict, XmlError, DSIG_NS, XADES_NS, children, child, text, allElements, isComment, isCData } from "./xml.ts";
export * from "./build.ts";
export * from "./validate.ts";
export * from "./read.ts";
export * from "./attachment.ts";
export { scanPacket, readSource, regionText, regionBytes, DEFAULT_SCAN_LIMITS } from "./scan.ts";
export type { PacketSource, ContentRegion, ScannedPacket, ScanLimits } from "./scan.ts";
export { edocFromInput, attachmentInfoFor } from "./input.ts";
export { AGENCY_STATUSES, agencyName, agencyNameProblem, endpointBase, endpointProblem, organIdProblem, parentProblem, type AgencyStatus } from "./agency.ts";
