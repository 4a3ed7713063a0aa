// The edXML data model (QCVN 102:2016/BTTTT). Property names are the edXML element names, so a
// HEADER.json for `edoc pack` and the model are the same thing.

export const EDXML_NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016";

/** An agency as it appears in From / To (cơ quan, đơn vị). */
export interface Organization {
  /** Mã định danh, e.g. 000.00.00.G22 (level4.level3.level2.level1). */
  OrganId: string;
  /** Cơ quan chủ quản: the managing body. */
  OrganizationInCharge?: string;
  OrganName?: string;
  OrganAdd?: string;
  Email?: string;
  Telephone?: string;
  Fax?: string;
  Website?: string;
}

/** Số / ký hiệu: the registration number and notation, shown as "Số 7816/VPCP-TTĐT". */
export interface Code {
  CodeNumber: string;
  CodeNotation: string;
}

interface PromulgationInfo {
  Place?: string;
  /** yyyy/MM/dd */
  PromulgationDate: string;
}

interface DocumentType {
  Type: number;
  TypeDetail?: number;
  TypeName?: string;
}

export interface SignerInfo {
  /** Thẩm quyền ký, e.g. "TL. BỘ TRƯỞNG", "KT.", "TM.". */
  Competence?: string;
  Position?: string;
  FullName?: string;
}

export interface OtherInfo {
  Priority?: number;
  /** Phạm vi lưu hành. */
  SphereOfPromulgation?: string;
  /** Ký hiệu người đánh máy (≤ 10 chars). */
  TyperNotation?: string;
  PromulgationAmount?: number;
  PageAmount?: number;
  Appendixes?: string[];
}

/** A related document: in an edoc the documents it answers, in a status packet the document reported on. */
export interface ResponseFor {
  OrganId: string;
  /** "số/ký hiệu", e.g. 7816/VPCP-TTĐT */
  Code?: string;
  PromulgationDate?: string;
  DocumentId: string;
}

/** MessageHeader of an edoc (văn bản điện tử). */
export interface EdocHeader {
  From: Organization;
  To: Organization[];
  DocumentId: string;
  Code: Code;
  PromulgationInfo: PromulgationInfo;
  DocumentType: DocumentType;
  /** Trích yếu. */
  Subject: string;
  Content?: string;
  SignerInfo?: SignerInfo;
  /** Hạn xử lý, yyyy/MM/dd */
  DueDate?: string;
  OtherInfo?: OtherInfo;
  ResponseFor?: ResponseFor[];
  /** 0 không phải chỉ đạo, 1 chỉ đạo, 2 báo cáo chỉ đạo. */
  SteeringType?: number;
  /** Nơi nhận printed on the document (not routing). */
  ToPlaces?: string[];
}

/** One relay hop; unsigned, relays append them. */
export interface TraceHeader {
  OrganId: string;
  /** yyyy/MM/dd HH:mm:ss */
  Timestamp: string;
}

export interface StaffInfo {
  Department?: string;
  Staff?: string;
  Mobile?: string;
  Email?: string;
}

/** BussinessDocType: 0 mới, 1 thu hồi (revoke), 2 cập nhật (update), 3 thay thế (replace). */
export type BussinessDocType = 0 | 1 | 2 | 3;

export const BUSINESS_KINDS: Record<BussinessDocType, { name: string; reason: string }> = {
  0: { name: "new", reason: "Văn bản điện tử mới" },
  1: { name: "revoke", reason: "Thu hồi văn bản điện tử" },
  2: { name: "update", reason: "Cập nhật văn bản điện tử" },
  3: { name: "replace", reason: "Văn bản thay thế" },
};

/** ReceiverType: 0 removed from the recipients, 1 newly added. */
export interface Receiver {
  OrganId: string;
  ReceiverType: 0 | 1;
}

export interface BussinessDocumentInfo {
  /** 1 when the document's metadata changed. */
  DocumentInfo: 0 | 1;
  /** 1 when the recipient list changed. */
  DocumentReceiver: 0 | 1;
  ReceiverList: Receiver[];
}

export interface ReplacementInfo {
  /** The replaced document. */
  DocumentId: string;
  /** Organisations that had received it. */
  OrganIdList: string[];
}

/** The Bussiness block (double "s" as the VNPT library writes it). */
export interface Bussiness {
  BussinessDocType: BussinessDocType;
  BussinessDocReason?: string;
  /** The document being revoked / updated (types 1, 2). */
  DocumentId?: string;
  /** 1 when a paper original is also sent. */
  Paper?: 0 | 1;
  StaffInfo?: StaffInfo;
  BussinessDocumentInfo?: BussinessDocumentInfo;
  ReplacementInfoList?: ReplacementInfo[];
}

/** One manifest entry / attachment description. */
export interface AttachmentInfo {
  /** Without the "cid:" prefix. */
  ContentId: string;
  AttachmentName: string;
  ContentType: string;
  Description?: string;
}

/** Status codes of the processing flow, with their Vietnamese names. */
export const STATUS_CODES = {
  "01": "Đã đến",
  "02": "Từ chối tiếp nhận",
  "03": "Đã tiếp nhận",
  "04": "Phân công",
  "05": "Đang xử lý",
  "06": "Hoàn thành",
  "13": "Lấy lại",
  "15": "Đồng ý lấy lại/cập nhật",
  "16": "Từ chối lấy lại/cập nhật",
} as const;
export type StatusCode = keyof typeof STATUS_CODES;

/** MessageHeader of a status packet (thông điệp trạng thái). */
export interface StatusHeader {
  From: Organization;
  ResponseFor: ResponseFor;
  StaffInfo?: StaffInfo;
  StatusCode: StatusCode;
  Description?: string;
  /** yyyy/MM/dd HH:mm:ss */
  Timestamp: string;
}

/** An outgoing or received edoc, without attachment bytes. */
export interface Edoc {
  kind: "edoc";
  header: EdocHeader;
  bussiness?: Bussiness;
  traces: TraceHeader[];
  attachments: AttachmentInfo[];
}

export interface StatusPacket {
  kind: "status";
  header: StatusHeader;
}

export type Packet = Edoc | StatusPacket;
