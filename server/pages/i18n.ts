// The words of the web pages, Vietnamese (the default, whatever the browser asks for) and English.
// `en` has the type of `vi`: a key missing from either is a compile error. Dates are shown in
// Vietnam's time zone with Intl.
import type { Language, Role } from "../../app/index.ts";

const vi = {
  lang: "vi" as Language,
  locale: "vi-VN",
  product: "edoc: trao đổi văn bản điện tử",
  skip: "Bỏ qua, đến nội dung chính",
  /** The link to the other language, written in that language. */
  other: { language: "en" as Language, label: "English" },
  nav: {
    label: "Chức năng",
    inbox: "Văn bản đến",
    outbox: "Văn bản đi",
    compose: "Soạn văn bản",
    search: "Tra cứu",
    verify: "Kiểm tra chữ ký",
    admin: "Quản trị",
  },
  roles: { clerk: "Văn thư", archivist: "Lưu trữ", admin: "Quản trị viên" } satisfies Record<Role, string>,
  signedInAs: "Đang đăng nhập:",
  signOut: "Đăng xuất",
  signIn: {
    title: "Đăng nhập",
    intro: "Đăng nhập bằng tài khoản do quản trị viên của cơ quan cấp.",
    username: "Tên đăng nhập",
    password: "Mật khẩu",
    submit: "Đăng nhập",
    wrong: "Tên đăng nhập hoặc mật khẩu không đúng.",
    throttled: (minutes: number) => `Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau ${minutes} phút.`,
    expired: "Phiên làm việc đã kết thúc. Vui lòng đăng nhập lại.",
  },
  home: { title: "Trang chính", welcome: (name: string) => `Xin chào, ${name}.`, choose: "Chọn một chức năng trong thanh điều hướng ở trên." },
  building: { note: "Trang này đang được xây dựng." },
  verify: {
    title: "Kiểm tra chữ ký",
    intro: "Chọn hoặc kéo thả một gói tin edXML (.edxml, .xml) hay một hồ sơ chứng cứ (.zip) để kiểm tra chữ ký số theo các chứng thư tin cậy và danh bạ của nút này.",
    file: "Tệp cần kiểm tra",
    drop: "Kéo thả tệp vào đây",
    submit: "Kiểm tra",
    missing: "Chưa chọn tệp cần kiểm tra.",
    tooLarge: (bytes: number) => `Tệp lớn hơn mức nút này kiểm tra (tối đa ${new Intl.NumberFormat("vi-VN").format(bytes)} byte).`,
    result: "Kết quả kiểm tra",
    valid: "Hợp lệ",
    invalid: "Không hợp lệ",
    // a packet without a signature (the QCVN placeholder): never "Hợp lệ" (app/unsigned.ts)
    unsigned: "Chưa ký số",
    reason: "Lý do",
    details: "Chi tiết",
    warnings: "Lưu ý",
    signer: "Người ký",
    signerAgency: "Cơ quan ký (mã định danh)",
    certificate: "Chứng thư số",
    issuer: "Cấp bởi",
    serial: "Số hiệu",
    validity: "Hiệu lực",
    signingTime: "Thời điểm ký",
    checkedAt: "Thời điểm kiểm tra",
    documentId: "Mã văn bản",
    kind: { edoc: "Văn bản", status: "Trạng thái xử lý" },
    packetKind: "Loại gói tin",
    covers: "Chữ ký bao gồm",
    digestOk: "khớp",
    digestBad: "không khớp (đã bị thay đổi sau khi ký)",
    digestUnchecked: "chưa kiểm tra",
    none: "không có",
    part: {
      "message header": "Phần đầu văn bản: số, ký hiệu, trích yếu, nơi gửi, nơi nhận, người ký",
      "status message header": "Phần đầu thông báo trạng thái",
      "business block": "Thông tin nghiệp vụ",
      "attachment manifest": "Danh sách tệp đính kèm",
      "signed properties": "Thuộc tính ký: thời điểm ký và chứng thư số của người ký",
      "agency list": "Danh sách cơ quan",
    } as Record<string, string>,
    /** The kinds of business block (envelopes' BUSINESS_KINDS names). */
    business: { new: "văn bản mới", revoke: "thu hồi", update: "cập nhật", replace: "thay thế" } as Record<string, string>,
    attachment: (n: string, name: string) => `Tệp đính kèm ${n}${name ? `: ${name}` : ""}`,
    reasons: {
      FORMAT_FAILURE: "Tệp không phải là gói tin edXML đúng khuôn dạng, hoặc hồ sơ chứng cứ không đọc được.",
      NO_SIGNATURE: "Gói tin không có chữ ký số.",
      DISALLOWED_ALGORITHM: "Chữ ký dùng thuật toán không được phép.",
      NO_CERTIFICATE_CHAIN_FOUND: "Chứng thư số của người ký không thuộc một tổ chức cung cấp dịch vụ chứng thực được tin cậy.",
      NO_SIGNING_CERTIFICATE_FOUND: "Chứng thư số kèm theo không phải là chứng thư mà chữ ký chỉ định.",
      EXPIRED: "Chứng thư số đã hết hạn tại thời điểm kiểm tra.",
      NOT_YET_VALID: "Chứng thư số chưa có hiệu lực tại thời điểm kiểm tra.",
      REVOKED: "Chứng thư số đã bị thu hồi.",
      SIGNER_NOT_BOUND: "Chứng thư số không được đăng ký cho cơ quan gửi trong danh bạ.",
      HASH_FAILURE: "Nội dung đã bị thay đổi sau khi ký.",
      SIG_CRYPTO_FAILURE: "Giá trị chữ ký không đúng.",
      CHAIN_CONSTRAINTS_FAILURE: "Chứng thư số không được phép dùng để ký văn bản (mục đích sử dụng mở rộng không cho phép).",
    },
  },
  errors: {
    title: "Có lỗi",
    forbidden: "Yêu cầu bị từ chối: biểu mẫu đã cũ hoặc không đến từ trang này. Hãy tải lại trang rồi thử lại.",
    notFound: "Không có trang này.",
    internal: "Đã có lỗi ở nút này; sự cố đã được ghi lại.",
    back: "Về trang chính",
  },
};

export type Dictionary = typeof vi;

const en: Dictionary = {
  lang: "en",
  locale: "en-GB",
  product: "edoc: electronic document exchange",
  skip: "Skip to the main content",
  other: { language: "vi", label: "Tiếng Việt" },
  nav: {
    label: "Functions",
    inbox: "Inbox",
    outbox: "Sent documents",
    compose: "Compose",
    search: "Search",
    verify: "Verify a signature",
    admin: "Administration",
  },
  roles: { clerk: "Clerk", archivist: "Archivist", admin: "Administrator" },
  signedInAs: "Signed in:",
  signOut: "Sign out",
  signIn: {
    title: "Sign in",
    intro: "Sign in with the account your agency's administrator gave you.",
    username: "User name",
    password: "Password",
    submit: "Sign in",
    wrong: "The user name or the password is wrong.",
    throttled: (minutes) => `Too many failed sign-ins. Please try again in ${minutes} minute(s).`,
    expired: "Your session has ended. Please sign in again.",
  },
  home: { title: "Home", welcome: (name) => `Hello, ${name}.`, choose: "Choose a function in the navigation above." },
  building: { note: "This page is being built." },
  verify: {
    title: "Verify a signature",
    intro: "Choose or drop an edXML packet (.edxml, .xml) or an evidence bundle (.zip) to check its digital signature against this node's trust anchors and registry.",
    file: "File to verify",
    drop: "Drop the file here",
    submit: "Verify",
    missing: "No file was chosen.",
    tooLarge: (bytes) => `The file is larger than this node verifies (at most ${new Intl.NumberFormat("en-GB").format(bytes)} bytes).`,
    result: "Result",
    valid: "Valid",
    invalid: "Not valid",
    unsigned: "Not signed",
    reason: "Reason",
    details: "Details",
    warnings: "Warnings",
    signer: "Signer",
    signerAgency: "Signing agency (organ id)",
    certificate: "Certificate",
    issuer: "Issued by",
    serial: "Serial number",
    validity: "Valid",
    signingTime: "Signing time",
    checkedAt: "Checked at",
    documentId: "Document id",
    kind: { edoc: "Document", status: "Status notice" },
    packetKind: "Packet kind",
    covers: "The signature covers",
    digestOk: "matches",
    digestBad: "does not match (changed after signing)",
    digestUnchecked: "not checked",
    none: "none",
    part: {
      "message header": "The message header: number, notation, subject, sender, recipients, signer",
      "status message header": "The header of the status notice",
      "business block": "The business block",
      "attachment manifest": "The list of attachments",
      "signed properties": "The signed properties: signing time and the signer's certificate",
      "agency list": "The agency list",
    },
    business: { new: "new document", revoke: "revoke", update: "update", replace: "replace" },
    attachment: (n, name) => `Attachment ${n}${name ? `: ${name}` : ""}`,
    reasons: {
      FORMAT_FAILURE: "The file is not a well-formed edXML packet, or the evidence bundle cannot be read.",
      NO_SIGNATURE: "The packet is not signed.",
      DISALLOWED_ALGORITHM: "The signature uses an algorithm that is not allowed.",
      NO_CERTIFICATE_CHAIN_FOUND: "The signer's certificate does not chain to a trusted certification authority.",
      NO_SIGNING_CERTIFICATE_FOUND: "The certificate carried is not the one the signature names.",
      EXPIRED: "The certificate had expired at the time of the check.",
      NOT_YET_VALID: "The certificate was not yet valid at the time of the check.",
      REVOKED: "The certificate is revoked.",
      SIGNER_NOT_BOUND: "The certificate is not registered for the sending agency in the registry.",
      HASH_FAILURE: "The content was changed after signing.",
      SIG_CRYPTO_FAILURE: "The signature value does not check.",
      CHAIN_CONSTRAINTS_FAILURE: "The certificate may not sign documents (its extended key usage does not allow it).",
    },
  },
  errors: {
    title: "Something went wrong",
    forbidden: "The request was refused: the form is old or did not come from this page. Reload the page and try again.",
    notFound: "There is no such page.",
    internal: "This node had a problem; the incident was logged.",
    back: "Back to the home page",
  },
};

const DICTIONARIES: Record<Language, Dictionary> = { vi, en };

export const dictionary = (language: Language): Dictionary => DICTIONARIES[language];

/** A date and time in Vietnam's time zone: "10:05:00 30/11/2026 (GMT+7)" in Vietnamese. */
export function dateTime(t: Dictionary, iso: string | null): string {
  if (!iso) return "";
  const shown = new Intl.DateTimeFormat(t.locale, {
    day: "2-digit",
    month: "2-digit",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZone: "Asia/Ho_Chi_Minh",
  }).format(new Date(iso));
  return `${shown} (GMT+7)`;
}

/** The part of an "English — Vietnamese" message in the page's language (the whole when it is not bilingual). */
export function bilingual(t: Dictionary, message: string): string {
  const at = message.indexOf(" — ");
  if (at < 0) return message;
  return t.lang === "vi" ? message.slice(at + 3) : message.slice(0, at);
}
