// The OpenAPI 3.1 description of the node's HTTP interface, served as JSON at GET /api/docs (no
// token needed). The names follow the service contract; test/api.test.ts checks that every route
// of the API router is described here.
import { STATUS_CODES } from "../envelopes/index.ts";
import { MAX_FILES, MAX_PAGE_SIZE, SETTABLE_STATUS_CODES } from "./api.ts";
import type { Node } from "./context.ts";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: object) => ({ "application/json": { schema } });
const error = (description: string) => ({ description, content: jsonContent(ref("Error")) });

/** The standard error answers of an authenticated endpoint. */
const authErrors = {
  "401": error("No token, a malformed Authorization header, or an unknown or revoked token"),
  "403": error("The token's role may not do this"),
};

const SUB_INDICATIONS = [
  "FORMAT_FAILURE",
  "NO_SIGNATURE",
  "DISALLOWED_ALGORITHM",
  "NO_CERTIFICATE_CHAIN_FOUND",
  "NO_SIGNING_CERTIFICATE_FOUND",
  "EXPIRED",
  "NOT_YET_VALID",
  "REVOKED",
  "SIGNER_NOT_BOUND",
  "HASH_FAILURE",
  "SIG_CRYPTO_FAILURE",
];

const organId = { type: "string", pattern: "^[0-9A-Za-z.]{1,35}$", examples: ["000.00.00.G22"] };
const idParam = { name: "id", in: "path", required: true, description: "This node's id for the document", schema: { type: "string" } };
const organIdParam = { name: "organId", in: "path", required: true, schema: organId };

const schemas = {
  Error: {
    type: "object",
    required: ["error"],
    properties: {
      error: { type: "string", description: "What went wrong, in a sentence a clerk's IT department can act on" },
      details: { description: "Each problem found (for validation errors, a list of sentences)" },
    },
  },
  Organization: {
    type: "object",
    required: ["OrganId"],
    properties: {
      OrganId: organId,
      OrganName: { type: "string", maxLength: 200 },
      OrganizationInCharge: { type: "string", maxLength: 500 },
      OrganAdd: { type: "string", maxLength: 500 },
      Email: { type: "string", maxLength: 100 },
      Telephone: { type: "string", maxLength: 20 },
      Fax: { type: "string", maxLength: 20 },
      Website: { type: "string" },
    },
  },
  DocumentMetadata: {
    type: "object",
    description:
      "The MessageHeader fields with their edXML names. From defaults to the token's agency (and must be it); To lists organ ids or Organization objects; " +
      'Code may be "số/ký hiệu"; DocumentId and PromulgationInfo/PromulgationDate are filled in when missing. An optional Bussiness block makes a revoke (1), update (2) or replace (3).',
    required: ["To", "Code", "Subject", "DocumentType"],
    properties: {
      From: { oneOf: [organId, ref("Organization")] },
      To: { type: "array", minItems: 1, items: { oneOf: [organId, ref("Organization")] } },
      Code: {
        oneOf: [
          { type: "string", examples: ["45/QĐ-VPCP"] },
          { type: "object", properties: { CodeNumber: { type: "string", maxLength: 11 }, CodeNotation: { type: "string", maxLength: 30 } } },
        ],
      },
      DocumentId: { type: "string", maxLength: 200 },
      PromulgationInfo: { type: "object", properties: { Place: { type: "string", maxLength: 50 }, PromulgationDate: { type: "string", pattern: "^\\d{4}/\\d{2}/\\d{2}$" } } },
      DocumentType: {
        type: "object",
        required: ["Type"],
        properties: { Type: { type: "integer", enum: [1, 2] }, TypeDetail: { type: "integer" }, TypeName: { type: "string", maxLength: 100 } },
      },
      Subject: { type: "string", maxLength: 500 },
      Content: { type: "string", maxLength: 500 },
      SignerInfo: { type: "object", properties: { Competence: { type: "string" }, Position: { type: "string" }, FullName: { type: "string" } } },
      DueDate: { type: "string" },
      ToPlaces: { type: "array", items: { type: "string", maxLength: 150 } },
      OtherInfo: { type: "object" },
      SteeringType: { type: "integer", minimum: 0 },
      ResponseFor: { type: "array", items: { type: "object" } },
      Bussiness: {
        type: "object",
        properties: {
          BussinessDocType: { type: "integer", enum: [0, 1, 2, 3], description: "0 new, 1 revoke, 2 update, 3 replace" },
          BussinessDocReason: { type: "string" },
          DocumentId: { type: "string", description: "The DocumentId of the document revoked or updated" },
          Paper: { type: "integer", enum: [0, 1] },
          BussinessDocumentInfo: { type: "object" },
          ReplacementInfoList: { type: "array", items: { type: "object" } },
        },
      },
    },
  },
  Delivery: {
    type: "object",
    required: ["organId", "state", "attempts"],
    properties: {
      organId,
      state: {
        type: "string",
        description: "queued, sending, delivered, failed; after the receipt, the last status code the recipient sent (02–06, 13, 15, 16)",
        examples: ["queued", "delivered", "03"],
      },
      attempts: { type: "integer" },
      nextAttemptAt: { type: ["string", "null"], format: "date-time" },
      lastError: { type: ["string", "null"] },
    },
  },
  Status: {
    type: "object",
    required: ["code", "from", "at"],
    properties: {
      code: { type: "string", enum: Object.keys(STATUS_CODES).sort() },
      from: organId,
      to: organId,
      at: { type: "string", format: "date-time" },
      direction: { type: "string", enum: ["sent", "received"] },
      description: { type: "string" },
    },
  },
  DocumentRecord: {
    type: "object",
    required: ["id", "documentId", "direction", "from", "to", "code", "subject", "deliveries", "statuses"],
    properties: {
      id: { type: "string", description: "This node's id for the document" },
      documentId: { type: "string", description: "The edXML DocumentId" },
      direction: { type: "string", enum: ["in", "out"] },
      localOrganId: organId,
      from: organId,
      to: { type: "array", items: organId },
      code: { type: "string", examples: ["45/QĐ-VPCP"] },
      subject: { type: "string" },
      type: { type: "string", description: "DocumentType/TypeName" },
      businessType: { type: "integer", enum: [0, 1, 2, 3] },
      relatedDocumentId: { type: ["string", "null"] },
      businessState: { type: ["string", "null"], enum: ["revoked", "updated", "replaced", null] },
      promulgationDate: { type: "string", format: "date" },
      status: { type: "string", description: "out: sent; in: received, or the last code set here" },
      createdAt: { type: "string", format: "date-time" },
      deliveries: { type: "array", items: ref("Delivery"), description: "Outbound: one per recipient" },
      statuses: { type: "array", items: ref("Status"), description: "Every status packet sent or received, oldest first" },
      attachments: {
        type: "array",
        items: {
          type: "object",
          properties: { n: { type: "integer", minimum: 1 }, name: { type: "string" }, contentType: { type: "string" }, size: { type: "integer" }, sha256: { type: "string" } },
        },
      },
      verification: {
        type: "object",
        properties: {
          valid: { type: "boolean" },
          indication: { type: "string" },
          subIndication: { type: ["string", "null"] },
          signer: { type: ["object", "null"] },
          signingTime: { type: ["string", "null"] },
        },
      },
      header: { type: "object", description: "The signed MessageHeader" },
      bussiness: { type: ["object", "null"] },
    },
  },
  SearchResult: {
    type: "object",
    required: ["items", "page", "pageSize", "hasMore"],
    properties: { items: { type: "array", items: ref("DocumentRecord") }, page: { type: "integer" }, pageSize: { type: "integer" }, hasMore: { type: "boolean" } },
  },
  StatusInput: {
    type: "object",
    required: ["code"],
    additionalProperties: false,
    properties: {
      code: {
        type: "string",
        enum: [...SETTABLE_STATUS_CODES],
        description: SETTABLE_STATUS_CODES.map((c) => `${c} ${STATUS_CODES[c]}`).join("; ") + ". On a received document 02–06, 15, 16; on a sent one 13.",
      },
      description: { type: "string", maxLength: 1000 },
    },
  },
  VerificationReport: {
    type: "object",
    required: ["valid", "indication", "subIndication", "validationTime", "errors", "warnings"],
    properties: {
      valid: { type: "boolean" },
      indication: { type: "string", enum: ["TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE"] },
      subIndication: { type: ["string", "null"], enum: [...SUB_INDICATIONS, null] },
      packetKind: { type: ["string", "null"], enum: ["edoc", "status", null] },
      documentId: { type: ["string", "null"] },
      signer: {
        type: ["object", "null"],
        properties: {
          organId: { type: ["string", "null"] },
          subject: { type: "string" },
          issuer: { type: "string" },
          serialNumber: { type: "string" },
          fingerprint: { type: "string" },
          notBefore: { type: "string" },
          notAfter: { type: "string" },
        },
      },
      signingTime: { type: ["string", "null"] },
      validationTime: { type: "string", format: "date-time" },
      references: {
        type: "array",
        items: { type: "object", properties: { uri: { type: "string" }, covers: { type: "string" }, digestOk: { type: ["boolean", "null"] } } },
      },
      errors: { type: "array", items: { type: "string" }, description: "English, then Vietnamese" },
      warnings: { type: "array", items: { type: "string" } },
      bundle: { type: "object", description: "For an evidence bundle: the manifest, files, attachments and status packets checked" },
    },
  },
  AgencyInput: {
    type: "object",
    required: ["organId", "name", "endpoint"],
    properties: {
      organId,
      name: { type: "string", maxLength: 200 },
      parentId: { oneOf: [organId, { type: "null" }] },
      endpoint: { type: "string", format: "uri", description: "Base URL (http or https) of the node hosting the agency; packets go to {endpoint}/edxml" },
      certificates: { type: "array", maxItems: 20, items: { type: "string", description: "PEM certificate that may sign for the agency" } },
      certificateFingerprints: { type: "array", items: { type: "string", pattern: "^[0-9a-fA-F:]{64,95}$", description: "SHA-256 of the certificate DER, hex" } },
      status: { type: "string", enum: ["active", "inactive"], default: "active" },
    },
  },
  Agency: {
    type: "object",
    properties: {
      organId,
      name: { type: "string" },
      parentId: { type: ["string", "null"] },
      endpoint: { type: "string" },
      certificates: { type: "array", items: { type: "string" } },
      certificateFingerprints: { type: "array", items: { type: "string" } },
      status: { type: "string", enum: ["active", "inactive"] },
      source: { type: "string", description: '"local" (entered on this node) or the snapshot URL it was synced from' },
      local: { type: "boolean", description: "Hosted by this node" },
      updatedAt: { type: "string", format: "date-time" },
    },
  },
};

/** The description, with this node's public URL as the server. */
export function openApiDocument(node: Pick<Node, "config">) {
  return {
    openapi: "3.1.0",
    info: {
      title: "edoc — electronic document exchange between state agencies",
      version: "1.0.0",
      description:
        "Signed edXML packets (QCVN 102:2016/BTTTT) between Vietnamese state agencies. /api/v1 is for people's software and needs a bearer token " +
        "(`bin/edoc token create`); roles: clerk (send, receive, set statuses), archivist (read and export, change nothing), admin (registry). " +
        "A user only ever sees its own agency's documents. /edxml is the door for other nodes: trust comes from the signature.",
    },
    servers: [{ url: node.config.publicUrl }],
    tags: [
      { name: "documents", description: "Sending, searching and reading documents" },
      { name: "verification" },
      { name: "registry", description: "The agencies this node knows" },
      { name: "between nodes" },
      { name: "operations" },
    ],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "An API token from `bin/edoc token create`" } },
      schemas,
    },
    paths: {
      "/api/v1/documents": {
        post: {
          tags: ["documents"],
          summary: "Send a document",
          description:
            "Builds, signs, stores and queues the packet for every recipient. Nothing is stored unless all of it is. Roles: clerk. " +
            `At most ${MAX_FILES} files; each at most the node's EDOC_MAX_UPLOAD_BYTES.`,
          security: [{ bearer: [] }],
          requestBody: {
            required: true,
            content: {
              "multipart/form-data": {
                schema: {
                  type: "object",
                  required: ["metadata", "files"],
                  properties: {
                    metadata: { type: "string", contentMediaType: "application/json", description: "DocumentMetadata as JSON text" },
                    files: { type: "array", minItems: 1, maxItems: MAX_FILES, items: { type: "string", contentMediaType: "application/octet-stream" } },
                  },
                },
                encoding: { metadata: { contentType: "application/json" } },
              },
            },
          },
          responses: {
            "201": { description: "Sent: stored and queued", headers: { Location: { schema: { type: "string" } } }, content: jsonContent(ref("DocumentRecord")) },
            "400": error("Malformed metadata, no files, or the document is not valid (details lists every problem)"),
            ...authErrors,
            "413": error("A file or the metadata is larger than the node accepts"),
            "415": error("Not multipart/form-data"),
          },
        },
        get: {
          tags: ["documents"],
          summary: "Search the agency's documents",
          description: "Newest first. q is full text over subject, content and number, insensitive to Vietnamese diacritics (quyet dinh finds Quyết định). Roles: clerk, archivist.",
          security: [{ bearer: [] }],
          parameters: [
            { name: "direction", in: "query", schema: { type: "string", enum: ["in", "out"] } },
            { name: "q", in: "query", schema: { type: "string", maxLength: 200 } },
            { name: "code", in: "query", schema: { type: "string" }, description: 'Exactly "số/ký hiệu", e.g. 45/QĐ-VPCP' },
            { name: "from", in: "query", schema: { type: "string", format: "date" }, description: "Created on or after (yyyy-mm-dd, Vietnam time)" },
            { name: "to", in: "query", schema: { type: "string", format: "date" }, description: "Created on or before (yyyy-mm-dd, Vietnam time)" },
            { name: "sender", in: "query", schema: organId },
            { name: "recipient", in: "query", schema: organId },
            { name: "status", in: "query", schema: { type: "string", enum: ["received", "sent", ...Object.keys(STATUS_CODES).sort()] } },
            { name: "type", in: "query", schema: { type: "string" }, description: "DocumentType/TypeName, e.g. Quyết định" },
            { name: "page", in: "query", schema: { type: "integer", minimum: 1, default: 1 } },
            { name: "pageSize", in: "query", schema: { type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE, default: 50 } },
          ],
          responses: { "200": { description: "One page", content: jsonContent(ref("SearchResult")) }, "400": error("A parameter is not valid"), ...authErrors },
        },
      },
      "/api/v1/documents/{id}": {
        get: {
          tags: ["documents"],
          summary: "The document record, with per-recipient delivery state and the status timeline",
          security: [{ bearer: [] }],
          parameters: [idParam],
          responses: { "200": { description: "The record", content: jsonContent(ref("DocumentRecord")) }, ...authErrors, "404": error("No such document for your agency") },
        },
      },
      "/api/v1/documents/{id}/envelope": {
        get: {
          tags: ["documents"],
          summary: "The stored packet, byte-exact",
          security: [{ bearer: [] }],
          parameters: [idParam],
          responses: {
            "200": { description: "The signed edXML packet", content: { "application/xml": { schema: { type: "string" } } } },
            ...authErrors,
            "404": error("No such document for your agency"),
          },
        },
      },
      "/api/v1/documents/{id}/attachments/{n}": {
        get: {
          tags: ["documents"],
          summary: "One attachment, with its file name (Content-Disposition, RFC 5987 filename*)",
          security: [{ bearer: [] }],
          parameters: [idParam, { name: "n", in: "path", required: true, schema: { type: "integer", minimum: 1 }, description: "1 for the first attachment" }],
          responses: {
            "200": {
              description: "The file",
              headers: { "Content-Disposition": { schema: { type: "string" }, description: "attachment; filename=\"…\"; filename*=UTF-8''…" } },
              content: { "*/*": { schema: { type: "string", contentMediaType: "application/octet-stream" } } },
            },
            ...authErrors,
            "404": error("No such document for your agency, or no such attachment"),
          },
        },
      },
      "/api/v1/documents/{id}/evidence": {
        get: {
          tags: ["documents"],
          summary: "A ZIP evidence bundle",
          description: "The packet, its attachments, every signed status packet, the verification report and a manifest of SHA-256 digests; `bin/edoc verify` and POST /api/v1/verify accept it.",
          security: [{ bearer: [] }],
          parameters: [idParam],
          responses: {
            "200": { description: "The bundle", content: { "application/zip": { schema: { type: "string", contentMediaType: "application/zip" } } } },
            ...authErrors,
            "404": error("No such document for your agency"),
          },
        },
      },
      "/api/v1/documents/{id}/status": {
        post: {
          tags: ["documents"],
          summary: "Set a processing status: signs and sends the status packet to the other party",
          security: [{ bearer: [] }],
          parameters: [idParam],
          requestBody: { required: true, content: jsonContent(ref("StatusInput")) },
          responses: {
            "200": { description: "The record, with the new status", content: jsonContent(ref("DocumentRecord")) },
            "400": error("Not a code a clerk can set here"),
            ...authErrors,
            "404": error("No such document for your agency"),
            "409": error("The code cannot follow the statuses already exchanged (e.g. 06 before 03)"),
            "415": error("Not JSON"),
          },
        },
      },
      "/api/v1/documents/{id}/resend": {
        post: {
          tags: ["documents"],
          summary: "Queue the failed deliveries of a sent document again (every recipient, or the one given)",
          security: [{ bearer: [] }],
          parameters: [idParam],
          requestBody: {
            required: false,
            content: jsonContent({ type: "object", properties: { organId: { type: "string", description: "Only this recipient" } }, additionalProperties: false }),
          },
          responses: {
            "202": { description: "The record, its failed deliveries queued again", content: jsonContent(ref("DocumentRecord")) },
            "400": error("Not a document this agency sent"),
            ...authErrors,
            "404": error("No such document for your agency"),
            "409": error("No delivery of it has failed"),
          },
        },
      },
      "/api/v1/verify": {
        post: {
          tags: ["verification"],
          summary: "Verify a packet or an evidence bundle against this node's trust anchors, CRLs and registry",
          security: [{ bearer: [] }],
          parameters: [{ name: "at", in: "query", schema: { type: "string", format: "date-time" }, description: "Check certificates at this time instead of now" }],
          requestBody: {
            required: true,
            content: {
              "application/xml": { schema: { type: "string" } },
              "application/zip": { schema: { type: "string", contentMediaType: "application/zip" } },
              "application/octet-stream": { schema: { type: "string" } },
            },
          },
          responses: {
            "200": { description: "The report, valid or not (a body that is not edXML is FORMAT_FAILURE)", content: jsonContent(ref("VerificationReport")) },
            "400": error("Empty body"),
            ...authErrors,
            "413": error("Larger than the node verifies"),
            "415": error("Not XML, ZIP or raw bytes"),
          },
        },
      },
      "/api/v1/agencies": {
        get: {
          tags: ["registry"],
          summary: "Every agency in the registry",
          security: [{ bearer: [] }],
          responses: { "200": { description: "The registry", content: jsonContent({ type: "object", properties: { items: { type: "array", items: ref("Agency") } } }) }, ...authErrors },
        },
        post: {
          tags: ["registry"],
          summary: "Add an agency (admin)",
          security: [{ bearer: [] }],
          requestBody: { required: true, content: jsonContent(ref("AgencyInput")) },
          responses: {
            "201": { description: "Added", content: jsonContent(ref("Agency")) },
            "400": error("Not valid (details lists every problem)"),
            ...authErrors,
            "409": error("Already in the registry"),
            "415": error("Not JSON"),
          },
        },
      },
      "/api/v1/agencies/{organId}": {
        get: {
          tags: ["registry"],
          summary: "One agency",
          security: [{ bearer: [] }],
          parameters: [organIdParam],
          responses: { "200": { description: "The agency", content: jsonContent(ref("Agency")) }, ...authErrors, "404": error("Not in the registry") },
        },
        put: {
          tags: ["registry"],
          summary: "Add or replace an agency (admin)",
          description: "An agency hosted by this node may only be changed by its own administrators, and must keep its signing certificate.",
          security: [{ bearer: [] }],
          parameters: [organIdParam],
          requestBody: { required: true, content: jsonContent(ref("AgencyInput")) },
          responses: {
            "200": { description: "Replaced", content: jsonContent(ref("Agency")) },
            "201": { description: "Added", content: jsonContent(ref("Agency")) },
            "400": error("Not valid (details lists every problem)"),
            ...authErrors,
            "409": error("Would unbind this node's own signing certificate"),
            "415": error("Not JSON"),
          },
        },
        delete: {
          tags: ["registry"],
          summary: "Remove an agency (admin)",
          security: [{ bearer: [] }],
          parameters: [organIdParam],
          responses: { "204": { description: "Removed" }, ...authErrors, "404": error("Not in the registry"), "409": error("An agency hosted by this node") },
        },
      },
      "/edxml": {
        post: {
          tags: ["between nodes"],
          summary: "The inbound door for other agencies' nodes (no token: trust comes from the signature, the trust anchors and the registry)",
          parameters: [
            {
              name: "X-Edoc-Recipient",
              in: "header",
              required: false,
              schema: organId,
              description: "Which of the document's recipients this delivery is for (set by the sending node's worker)",
            },
          ],
          requestBody: { required: true, content: { "application/xml": { schema: { type: "string", description: "One edXML packet: an edoc or a status packet" } } } },
          responses: {
            "202": {
              description:
                "An edoc for a local agency: the body is the signed status packet 01 (Đã đến), the receipt; the same packet again (same sender and DocumentId) gets the same receipt and creates nothing. " +
                "A status packet: {accepted: true} (duplicate: true when it was already held).",
              content: {
                "application/xml": { schema: { type: "string" } },
                "application/json": { schema: { type: "object", properties: { accepted: { type: "boolean" }, duplicate: { type: "boolean" } } } },
              },
            },
            "400": error("Not XML, not edXML, or not a valid edXML document"),
            "404": error("Not addressed to any agency of this node, or a status about a document it does not hold"),
            "409": error("A status that cannot follow the statuses already exchanged"),
            "413": error("Too large"),
            "422": { description: "The packet fails verification: the report; nothing is stored but the rejection in the log", content: jsonContent(ref("VerificationReport")) },
          },
        },
      },
      "/registry/snapshot": {
        get: {
          tags: ["between nodes"],
          summary: "The node's registry as one signed XML document with an expiry time",
          responses: { "200": { description: "The signed snapshot", content: { "application/xml": { schema: { type: "string" } } } } },
        },
      },
      "/healthz": { get: { tags: ["operations"], summary: "Liveness", responses: { "200": { description: "The process is up" } } } },
      "/readyz": {
        get: { tags: ["operations"], summary: "Readiness: the database is reachable", responses: { "200": { description: "Ready" }, "503": { description: "The database is not reachable" } } },
      },
      "/metrics": {
        get: {
          tags: ["operations"],
          summary: "Prometheus metrics",
          responses: { "200": { description: "Prometheus text format", content: { "text/plain": { schema: { type: "string" } } } } },
        },
      },
      "/api/docs": {
        get: { tags: ["operations"], summary: "This description (OpenAPI 3.1, JSON)", responses: { "200": { description: "The description", content: jsonContent({ type: "object" }) } } },
      },
    },
  };
}
