// What people read, in Vietnamese and English. The English text stays the source of every message
// in the code (gettext-style: the throw sites are not touched); this catalog pairs each English
// template with its Vietnamese one. `{name}` is a value carried over as it is (an organ id, a file
// name, a number); `{name:message}` is a message in turn (a hint, a role, a list of choices) and
// is translated too. A text no entry matches is answered in English, as written.

type Language = "vi" | "en";

/**
 * "vi" when the Accept-Language header ranks Vietnamese (vi, vi-VN, …) above English; with equal
 * weights the one named first wins. No header, `*`, or neither named: "en".
 */
export function preferredLanguage(header: string | undefined): Language {
  // q -1: not named (then `*` stands for it); vi;q=0 names Vietnamese as unacceptable
  let vi = { q: -1, at: Infinity };
  let en = { q: -1, at: Infinity };
  let any = { q: 0, at: Infinity };
  (header ?? "")
    .split(",")
    .slice(0, 50)
    .forEach((part, at) => {
      const [tag, ...params] = part.trim().toLowerCase().split(";");
      const qParam = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
      const q = qParam === undefined ? 1 : /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(qParam.slice(2)) ? Number(qParam.slice(2)) : -1;
      if (q < 0) return; // a malformed weight: the entry is ignored
      const best = (cur: { q: number; at: number }) => (q > cur.q ? { q, at } : cur);
      if (tag === "vi" || tag.startsWith("vi-")) vi = best(vi);
      else if (tag === "en" || tag.startsWith("en-")) en = best(en);
      else if (tag === "*") any = best(any);
    });
  if (vi.q < 0) vi = any;
  if (en.q < 0) en = any;
  return vi.q > en.q || (vi.q > 0 && vi.q === en.q && vi.at < en.at) ? "vi" : "en";
}

interface Entry {
  re: RegExp;
  /** A literal piece the text must contain: a cheap test before the regex. */
  piece: string;
  names: { name: string; message: boolean }[];
  vi: string;
  literal: number;
}

const PLACEHOLDER = /\{([A-Za-z]\w*)(:message)?\}/g;
/** Longer texts (a long value quoted) stay as written: matching costs grow with the square of the length. */
const MAX_TEXT = 1000;
/** A text of more "; "-separated parts than this is not taken apart. */
const MAX_PARTS = 20;

function compile([en, vi]: readonly [string, string]): Entry {
  const names: Entry["names"] = [];
  const literals: string[] = [];
  let source = "^";
  let last = 0;
  for (const m of en.matchAll(PLACEHOLDER)) {
    literals.push(en.slice(last, m.index));
    // a plain value does not run over "; ": where problems are joined, each keeps its own values
    source += escape(en.slice(last, m.index)) + (m[2] ? "([\\s\\S]*?)" : "((?:(?!; )[\\s\\S])*?)");
    if (names.some((n) => n.name === m[1])) throw new Error(`i18n: {${m[1]}} twice in "${en}"`);
    names.push({ name: m[1], message: m[2] !== undefined });
    last = m.index + m[0].length;
  }
  literals.push(en.slice(last));
  source += escape(en.slice(last)) + "$";
  for (const m of vi.matchAll(PLACEHOLDER)) {
    if (!names.some((n) => n.name === m[1])) throw new Error(`i18n: {${m[1]}} of "${vi}" is not in "${en}"`);
  }
  if (vi.normalize("NFC") !== vi) throw new Error(`i18n: "${vi}" is not NFC`);
  const piece = literals.reduce((a, b) => (b.length > a.length ? b : a), "");
  return { re: new RegExp(source), piece, names, vi, literal: literals.join("").length };
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The text in `lang`: the catalog's Vietnamese with the values of the English text, or the text itself. */
export function translate(text: string, lang: Language): string {
  if (lang === "en" || text.length > MAX_TEXT) return text;
  return inVietnamese(text) ?? text;
}

/**
 * A whole text, or one made of messages joined with "; " (a list of problems as one sentence),
 * each of them translated; undefined when any part has no entry (then it stays English whole).
 */
function inVietnamese(text: string): string | undefined {
  const whole = entryFor(text);
  if (whole !== undefined) return whole;
  const parts = text.split("; ");
  if (parts.length > MAX_PARTS) return undefined;
  // from each part on, the translation of the rest (memoized: each start is worked out once)
  const rest = new Map<number, string | undefined>([[parts.length, ""]]);
  for (let from = parts.length - 1; from >= 0; from--) {
    let found: string | undefined;
    for (let to = from + 1; to <= parts.length && found === undefined; to++) {
      const tail = rest.get(to);
      if (tail === undefined || (from === 0 && to === parts.length)) continue;
      const head = entryFor(parts.slice(from, to).join("; "));
      if (head !== undefined) found = tail ? `${head}; ${tail}` : head;
    }
    rest.set(from, found);
  }
  return rest.get(0);
}

function entryFor(text: string): string | undefined {
  for (const e of ENTRIES) {
    if (!text.includes(e.piece)) continue;
    const m = e.re.exec(text);
    if (!m) continue;
    const values = new Map(e.names.map((n, i) => [n.name, n.message ? translate(m[i + 1], "vi") : m[i + 1]]));
    return e.vi.replace(PLACEHOLDER, (_, name: string) => values.get(name)!);
  }
  return undefined;
}

// ---- the catalog --------------------------------------------------------------------------------
// English template (exactly as the code writes it, `${…}` as {name}) → Vietnamese. Field names and
// edXML paths (To[1]/OrganId, Bussiness/DocumentId, …), media types and commands stay as they are.
const CATALOG: ReadonlyArray<readonly [string, string]> = [
  // ---- who may do what (server/auth.ts, app/access.ts, app/tokens.ts)
  ["authentication required", "cần xác thực"],
  ["authentication required: send the header Authorization: Bearer <your API token>", "cần xác thực: hãy gửi tiêu đề Authorization: Bearer <mã truy cập API của bạn>"],
  ['the Authorization header must be "Bearer <your API token>"', 'tiêu đề Authorization phải có dạng "Bearer <mã truy cập API của bạn>"'],
  [
    "the API token is not valid (unknown, revoked or expired); ask your administrator for a new one",
    "mã truy cập API không hợp lệ (không tồn tại, đã bị thu hồi hoặc đã hết hạn); hãy đề nghị quản trị viên cấp mã mới",
  ],
  ["your role, {role:message}, may not {what:message}; this needs {roles:message}", "vai trò {role} của bạn không được phép {what}; việc này cần vai trò {roles}"],
  ["clerk (văn thư)", "văn thư (clerk)"],
  ["archivist (lưu trữ)", "lưu trữ (archivist)"],
  ["administrator (quản trị)", "quản trị (admin)"],
  ["clerk (văn thư) or archivist (lưu trữ)", "văn thư (clerk) hoặc lưu trữ (archivist)"],
  ["read documents", "đọc văn bản"],
  ["send documents or set their status", "gửi văn bản hoặc cập nhật trạng thái văn bản"],
  ["change the registry", "thay đổi danh bạ"],
  ["manage API tokens", "quản lý mã truy cập API"],
  ["manage users", "quản lý người dùng"],
  ["read the audit log", "xem nhật ký hoạt động"],
  ["verify the audit log", "kiểm tra nhật ký hoạt động"],
  ["only a node administrator may verify the audit log", "chỉ quản trị viên của nút mới được kiểm tra nhật ký hoạt động"],
  ["back up the node", "sao lưu nút"],
  [
    "this node keeps its data in PostgreSQL: back it up with pg_dump (see the README's deployment guide)",
    "nút này lưu dữ liệu trong PostgreSQL: hãy sao lưu bằng pg_dump (xem hướng dẫn triển khai trong README)",
  ],
  ["cannot write the backup {path}: {why}", "không ghi được bản sao lưu {path}: {why}"],
  ["do this", "làm việc này"],

  // ---- documents (app/documents.ts)
  ["no document {id} for your agency {organ}", "không có văn bản {id} của cơ quan {organ}"],
  ["the stored packet of document {id} is missing", "không tìm thấy gói tin đã lưu của văn bản {id}"],
  ["no attachment {n}: this document has attachments 1 to {count}", "không có tệp đính kèm {n}: văn bản này có các tệp đính kèm từ 1 đến {count}"],
  ["this document has no attachments", "văn bản này không có tệp đính kèm"],
  [
    "your agency already sent a document with the same number, notation and promulgation date (the same edXML DocumentId): give it its own number, or send a correction as an update or replacement (Bussiness)",
    "cơ quan của bạn đã gửi một văn bản có cùng số, ký hiệu và ngày ban hành (cùng DocumentId edXML): hãy cấp cho văn bản số riêng, hoặc gửi văn bản đính chính dưới dạng cập nhật hoặc thay thế (Bussiness)",
  ],
  ["{organ} is not an agency of this node", "{organ} không phải là cơ quan trên máy chủ này"],
  ["the Idempotency-Key header must be 1 to 60 visible ASCII characters (a UUID, for example)", "tiêu đề Idempotency-Key phải gồm 1 đến 60 ký tự ASCII nhìn thấy được (ví dụ một UUID)"],
  [
    "this Idempotency-Key was used for another document (DocumentId {id}); use a new key for a new document",
    "khóa Idempotency-Key này đã được dùng cho một văn bản khác (DocumentId {id}); hãy dùng khóa mới cho văn bản mới",
  ],
  [
    'the form field "metadata" must be a JSON object with the MessageHeader fields (From, To, Code, Subject, …)',
    'trường biểu mẫu "metadata" phải là một đối tượng JSON chứa các trường của MessageHeader (From, To, Code, Subject, …)',
  ],
  ["the document is not valid", "văn bản không hợp lệ"],
  ["you send for {organ}, not for {from}", "bạn gửi văn bản thay mặt {organ}, không phải {from}"],
  ["To[{n}]: {organ} is not in the registry; ask an administrator to add it", "To[{n}]: {organ} chưa có trong danh bạ; hãy đề nghị quản trị viên bổ sung"],
  ["To[{n}]: {organ} is marked inactive in the registry", "To[{n}]: {organ} đang ở trạng thái ngừng hoạt động trong danh bạ"],
  [
    "this node's own packet does not verify ({sub}): check the agency's certificate, trust anchors and registry",
    "gói tin do chính máy chủ này tạo không qua được kiểm tra chữ ký số ({sub}): hãy kiểm tra chứng thư số của cơ quan, các chứng thư gốc tin cậy và danh bạ",
  ],
  ["the status is not valid", "trạng thái không hợp lệ"],
  ["on a received document you can set 02, 03, 04, 05, 06, 15 or 16, not {code}", "với văn bản đến, bạn chỉ có thể đặt trạng thái 02, 03, 04, 05, 06, 15 hoặc 16, không phải {code}"],
  ["on a sent document you can only request it back (13), not {code}", "với văn bản đã gửi, bạn chỉ có thể yêu cầu lấy lại (13), không phải {code}"],
  ["only a document this agency sent can be sent again", "chỉ gửi lại được văn bản do chính cơ quan này gửi"],
  ["the request is not valid", "yêu cầu không hợp lệ"],
  ["no delivery of this document has failed, so there is nothing to send again", "không có lần chuyển nào của văn bản này bị lỗi, nên không có gì để gửi lại"],
  ["the search parameters are not valid", "tham số tìm kiếm không hợp lệ"],
  ["the audit query is not valid", "điều kiện tra cứu nhật ký không hợp lệ"],
  ["the book is not valid", "sổ văn bản được yêu cầu không hợp lệ"],
  ["the parameters are book and year", "các tham số là book và year"],
  ['book: "in" (sổ văn bản đến) or "out" (sổ văn bản đi)', 'book: "in" (sổ văn bản đến) hoặc "out" (sổ văn bản đi)'],
  ["year: a year from 2000 to 2999, not {value}", "year: phải là một năm từ 2000 đến 2999, không phải {value}"],
  ['overdue: "true" or nothing, not {value}', 'overdue: "true" hoặc để trống, không phải {value}'],

  // ---- receiving (app/receive.ts) and the statuses' order (envelopes/flow.ts)
  ["the receipt of document {id} is missing", "không tìm thấy gói tin báo đã đến của văn bản {id}"],
  ["the packet is signed correctly but is not a valid edXML document", "gói tin có chữ ký số hợp lệ nhưng không phải là văn bản edXML hợp lệ"],
  ["the document is addressed to {list}, and none of them is an agency of this node", "văn bản được gửi đến {list}, nhưng không cơ quan nào trong số đó nằm trên máy chủ này"],
  ["{organ} is not an agency of this node; check the sender's registry entry for it", "{organ} không phải là cơ quan trên máy chủ này; hãy kiểm tra mục danh bạ của cơ quan đó tại nơi gửi"],
  [
    "the delivery names {organ} as its recipient, which is not among the document's recipients (To)",
    "lần chuyển này ghi nơi nhận là {organ}, nhưng cơ quan này không có trong danh sách nơi nhận của văn bản (To)",
  ],
  ["the status packet is signed correctly but is not valid", "gói tin trạng thái có chữ ký số hợp lệ nhưng nội dung không hợp lệ"],
  ["the status is about a document of {organ}, which is not an agency of this node", "trạng thái này thuộc về một văn bản của {organ}, là cơ quan không nằm trên máy chủ này"],
  ["{organ} has received no document {id} from {from}", "{organ} chưa nhận văn bản {id} nào từ {from}"],
  ["{organ} has sent no document {id}", "{organ} chưa gửi văn bản {id} nào"],
  ["{from} was not a recipient of {id}, so it cannot report status {code} on it", "{from} không phải là nơi nhận văn bản {id}, nên không thể báo trạng thái {code} cho văn bản này"],
  ['unknown status code "{code}"', 'mã trạng thái "{code}" không tồn tại'],
  ['unknown status code "{code}"; the codes are {codes}', 'mã trạng thái "{code}" không tồn tại; các mã là {codes}'],
  ["the recipient already refused the document (02); {status} cannot follow", "nơi nhận đã từ chối tiếp nhận văn bản (02); không thể chuyển sang {status}"],
  ["the document was taken back (15); {status} cannot follow", "văn bản đã được lấy lại (15); không thể chuyển sang {status}"],
  ["{status} is only the first status of a recipient", "{status} chỉ có thể là trạng thái đầu tiên của nơi nhận"],
  ["the document was already accepted (03); it cannot be refused now", "văn bản đã được tiếp nhận (03); không thể từ chối nữa"],
  ["the document was already accepted (03)", "văn bản đã được tiếp nhận (03) rồi"],
  ["{status} needs the document accepted (03) first", "{status} chỉ đặt được sau khi văn bản đã được tiếp nhận (03)"],
  ["the document is already done (06)", "văn bản đã hoàn thành (06)"],
  ["a take-back request (13) is already waiting for an answer", "đã có một yêu cầu lấy lại (13) đang chờ trả lời"],
  ["{status} answers a take-back request (13), and none is open", "{status} là câu trả lời cho yêu cầu lấy lại (13), nhưng không có yêu cầu nào đang chờ"],

  // ---- the registry (app/registry.ts, envelopes/agency.ts)
  ["no agency {id} in the registry", "không có cơ quan {id} trong danh bạ"],
  ["{id} in the path is not an organ id (1 to 35 letters, digits or dots)", "{id} trên đường dẫn không phải là mã định danh (từ 1 đến 35 chữ cái, chữ số hoặc dấu chấm)"],
  ["organId {id} differs from {path} in the path; an organ id cannot be changed", "organId {id} khác với {path} trên đường dẫn; không thể thay đổi mã định danh"],
  ["the agency is not valid", "thông tin cơ quan không hợp lệ"],
  [
    '"{subject}" is a CA certificate; give the agency\'s own signing certificate (its CA is a trust anchor: edoc trust add)',
    '"{subject}" là chứng thư số của tổ chức chứng thực (CA); hãy cung cấp chứng thư số ký của chính cơ quan (chứng thư CA được thêm làm chứng thư gốc tin cậy: edoc trust add)',
  ],
  ["every certificate given has expired", "mọi chứng thư số được cung cấp đều đã hết hạn"],
  [
    "{id} is an agency of this node: only its own administrators may change its registry entry",
    "{id} là cơ quan trên máy chủ này: chỉ quản trị viên của chính cơ quan đó mới được thay đổi mục danh bạ của cơ quan",
  ],
  [
    "{id} is an agency of this node: the entry must keep its current signing certificate (SHA-256 {fingerprint}); without it this node's own packets would not verify",
    "{id} là cơ quan trên máy chủ này: mục danh bạ phải giữ chứng thư số ký hiện tại (SHA-256 {fingerprint}); nếu thiếu, gói tin của chính máy chủ này sẽ không qua được kiểm tra chữ ký số",
  ],
  ["{id} is already in the registry: change it with PUT /api/v1/agencies/{again}", "{id} đã có trong danh bạ: hãy sửa bằng PUT /api/v1/agencies/{again}"],
  ["the certificate {certificate} expired on {date}", "chứng thư số {certificate} đã hết hạn từ {date}"],
  [
    "{certificate} does not chain to a trust anchor of this node by itself; its packets are accepted only if they carry the intermediate CA certificates up to a trust anchor (edoc trust add CA.pem)",
    "{certificate} tự nó không dẫn tới chứng thư gốc tin cậy nào của máy chủ này; gói tin ký bằng chứng thư này chỉ được chấp nhận nếu mang theo các chứng thư CA trung gian đến chứng thư gốc tin cậy (edoc trust add CA.pem)",
  ],
  ["packets signed with {certificate} will be refused: {why}", "gói tin ký bằng {certificate} sẽ bị từ chối: {why}"],
  [
    "{id} is an agency of this node; its registry entry binds its signing certificate and cannot be deleted",
    "{id} là cơ quan trên máy chủ này; mục danh bạ của cơ quan gắn với chứng thư số ký của cơ quan nên không thể xóa",
  ],
  ["EDOC_REGISTRY_PUBLISHER is {id}, which is not an agency of this node", "EDOC_REGISTRY_PUBLISHER là {id}, không phải là cơ quan trên máy chủ này"],
  ["this node has no local agency yet, so it has no identity to sign its registry with", "máy chủ này chưa có cơ quan nào, nên chưa có danh tính để ký danh bạ"],
  ["{what} is required (e.g. 000.00.00.H41)", "{what} là trường bắt buộc (ví dụ 000.00.00.H41)"],
  [
    "{what} {value} is not an organ id of the form 000.00.00.G22 (three digits, two, two, then a capital letter and two digits)",
    "{what} {value} không phải là mã định danh dạng 000.00.00.G22 (ba chữ số, hai chữ số, hai chữ số, rồi một chữ cái in hoa và hai chữ số)",
  ],
  [
    "{what} {value} is not an organ id (1 to 35 letters, digits or dots, e.g. 000.00.00.H41)",
    "{what} {value} không phải là mã định danh (từ 1 đến 35 chữ cái, chữ số hoặc dấu chấm, ví dụ 000.00.00.H41)",
  ],
  ["{what} {value} is not an organ id", "{what} {value} không phải là mã định danh"],
  ["{what} is required", "{what} là trường bắt buộc"],
  ["{what} must be 1 to {max} characters on one line (no control characters)", "{what} phải dài từ 1 đến {max} ký tự trên một dòng (không có ký tự điều khiển)"],
  [
    "{what} is required: the base URL of the node hosting the agency (packets go to {endpoint}/edxml)",
    "{what} là trường bắt buộc: địa chỉ gốc (base URL) của máy chủ đặt cơ quan (gói tin được gửi đến {endpoint}/edxml)",
  ],
  [
    "{what} {value} is not a URL; give the node's base URL, such as https://edoc.example.gov.vn",
    "{what} {value} không phải là URL; hãy ghi địa chỉ gốc của máy chủ, ví dụ https://edoc.example.gov.vn",
  ],
  [
    "{what} must be an http or https URL, not {protocol} (a base URL starting http:// or https://)",
    "{what} phải là URL http hoặc https, không phải {protocol} (địa chỉ gốc bắt đầu bằng http:// hoặc https://)",
  ],
  ["{what} must not carry a user name or password", "{what} không được chứa tên người dùng hoặc mật khẩu"],
  ["{what} must not carry a query or fragment: it is a base URL", "{what} không được chứa chuỗi truy vấn (?) hoặc phân đoạn (#): đây là địa chỉ gốc"],
  ["{what} must be one line of at most {max} characters", "{what} phải nằm trên một dòng, tối đa {max} ký tự"],
  [
    "{what} is the node's base URL; packets go to {endpoint}/edxml, so leave /edxml off",
    "{what} là địa chỉ gốc của máy chủ; gói tin được gửi đến {endpoint}/edxml, nên hãy bỏ /edxml ở cuối",
  ],
  ["{what}: an agency cannot be its own parent", "{what}: một cơ quan không thể là cơ quan cấp trên của chính nó"],

  // ---- first start, local agencies, trust (app/setup.ts, app/trust.ts)
  ["{id} is already an agency of this node", "{id} đã là cơ quan trên máy chủ này"],
  [
    "{id} is in the registry as an agency of another node (from {source}); it cannot also be hosted here",
    "{id} có trong danh bạ là cơ quan của một máy chủ khác (nguồn {source}); không thể đồng thời đặt trên máy chủ này",
  ],
  ["the certificate {certificate} is a CA certificate, not an agency's signing certificate", "chứng thư số {certificate} là chứng thư CA, không phải chứng thư số ký của cơ quan"],
  [
    'the certificate does not chain to a trust anchor of this node ({why}); add its CA with "bin/edoc trust add CA.pem", or the node will refuse to send with it',
    'chứng thư số không dẫn tới chứng thư gốc tin cậy nào của máy chủ này ({why}); hãy thêm CA của chứng thư bằng "bin/edoc trust add CA.pem", nếu không máy chủ sẽ từ chối gửi văn bản ký bằng chứng thư này',
  ],
  ["{id} is a local agency but not in the registry; other nodes cannot find it", "{id} là cơ quan trên máy chủ này nhưng chưa có trong danh bạ; các máy chủ khác không tìm thấy cơ quan này"],
  ["the registry says {id} is reached at {url}, but this node's EDOC_PUBLIC_URL is {own}", "theo danh bạ, {id} được liên hệ tại {url}, nhưng EDOC_PUBLIC_URL của máy chủ này là {own}"],
  ["the certificate of {id} expires on {date}", "chứng thư số của {id} hết hạn vào {date}"],
  ["no certificate to trust", "không có chứng thư số nào để tin cậy"],

  // ---- tokens and users (app/tokens.ts, app/users.ts)
  ["no agency {id} among yours", "không có cơ quan {id} trong số cơ quan của bạn"],
  ["the token is not valid", "thông tin mã truy cập không hợp lệ"],
  ["{id} is not an agency of this node (see edoc agency list)", "{id} không phải là cơ quan trên máy chủ này (xem edoc agency list)"],
  ["no token {id} (see edoc token list)", "không có mã truy cập {id} (xem edoc token list)"],
  ["the user is not valid", "thông tin người dùng không hợp lệ"],
  ["the user name {name} is taken", "tên đăng nhập {name} đã có người dùng"],
  ["no user {name} (see edoc user list)", "không có người dùng {name} (xem edoc user list)"],
  ["the password is not valid", "mật khẩu không hợp lệ"],

  // ---- signing in to the web pages (app/sessions.ts, server/web.ts)
  ["wrong user name or password", "tên đăng nhập hoặc mật khẩu không đúng"],
  ["too many failed sign-ins: try again in {minutes} minute(s)", "đăng nhập sai quá nhiều lần: hãy thử lại sau {minutes} phút"],
  ["the form's CSRF token is missing or wrong", "biểu mẫu thiếu mã chống giả mạo (CSRF) hoặc mã không đúng"],
  ["the language link's token is missing or wrong", "liên kết chọn ngôn ngữ thiếu mã chống giả mạo hoặc mã không đúng"],
  ["this page is not for your role", "trang này không dành cho vai trò của bạn"],

  // ---- the schemas' sentences (app/schemas.ts)
  ['unexpected field "{field}"; {hint:message}', 'không chấp nhận trường "{field}"; {hint}'],
  ['unknown parameter "{name}"; the parameters are {list}', 'không chấp nhận tham số "{name}"; các tham số là {list}'],
  ["send code and description", "hãy gửi code và description"],
  ["send organId or nothing", "hãy gửi organId hoặc không gửi gì"],
  ["the fields are organId, name, parentId, endpoint, certificates, certificateFingerprints, status, acceptUnsigned", "các trường là organId, name, parentId, endpoint, certificates, certificateFingerprints, status, acceptUnsigned"],
  ["the fields are organId, role, name, expiresIn", "các trường là organId, role, name, expiresIn"],
  ["the fields are organId, role, username, fullName, password", "các trường là organId, role, username, fullName, password"],
  ["the parameters are since, until, actor, action, limit, before", "các tham số là since, until, actor, action, limit, before"],
  ["the only parameter is at", "chỉ có một tham số là at"],
  ["{what} must be an ISO 8601 time with its offset, for example 2026-11-22T10:00:00+07:00", "{what} phải là thời điểm theo ISO 8601 có ghi múi giờ, ví dụ 2026-11-22T10:00:00+07:00"],
  ["code is required: one of {codes}", "code là trường bắt buộc: một trong các mã {codes}"],
  ["code {value} is not a status a clerk can set; use one of {codes}", "code {value} không phải là trạng thái văn thư được đặt; hãy dùng một trong các mã {codes}"],
  ["{what} must be text", "{what} phải là chuỗi ký tự"],
  ["{name}: at most {max} characters", "{name}: tối đa {max} ký tự"],
  ["description contains a control character that cannot be carried in XML", "description chứa ký tự điều khiển, là ký tự không thể đưa vào XML"],
  ["organId must be an organ id", "organId phải là mã định danh cơ quan"],
  ["certificates must be a list of PEM certificates", "certificates phải là danh sách chứng thư số dạng PEM"],
  ["certificates: at most 20", "certificates: tối đa 20 chứng thư"],
  ["certificates[{n}] is not a PEM certificate (-----BEGIN CERTIFICATE----- …)", "certificates[{n}] không phải là chứng thư số dạng PEM (-----BEGIN CERTIFICATE----- …)"],
  ["certificates[{n}] cannot be read: {why}", "không đọc được certificates[{n}]: {why}"],
  ["certificateFingerprints must be a list of SHA-256 fingerprints (64 hex digits)", "certificateFingerprints phải là danh sách dấu vân tay SHA-256 (64 chữ số thập lục phân)"],
  ["certificateFingerprints[{n}] {value} is not a SHA-256 fingerprint (64 hex digits)", "certificateFingerprints[{n}] {value} không phải là dấu vân tay SHA-256 (64 chữ số thập lục phân)"],
  ['status: "active" or "inactive", not {value}', 'status: "active" hoặc "inactive", không phải {value}'],
  ["{name}: give it once", "{name}: chỉ được gửi một lần"],
  ["{name}: {value} is not an organ id (1 to 35 letters, digits or dots, e.g. 000.00.00.G22)", "{name}: {value} không phải là mã định danh (từ 1 đến 35 chữ cái, chữ số hoặc dấu chấm, ví dụ 000.00.00.G22)"],
  ["{name}: a date in the form {forms:message}, not {value}", "{name}: phải là ngày dạng {forms}, không phải {value}"],
  ["yyyy-mm-dd (or dd/mm/yyyy, yyyy/mm/dd)", "yyyy-mm-dd (hoặc dd/mm/yyyy, yyyy/mm/dd)"],
  [
    "only the node administrators (the administrators of {first}, the node's first agency) may {what:message}; an administrator of {other} manages only that agency's own entry, users and tokens",
    "chỉ quản trị viên của nút (quản trị viên của {first}, cơ quan đầu tiên của nút) mới được {what}; quản trị viên của {other} chỉ quản lý mục danh bạ, người dùng và mã truy cập của chính cơ quan đó",
  ],
  ["cannot open {where:message}: {why}", "không mở được {where}: {why}"],
  ["the PostgreSQL database of DATABASE_URL", "cơ sở dữ liệu PostgreSQL của DATABASE_URL"],
  ["the SQLite database in {dir}", "cơ sở dữ liệu SQLite trong {dir}"],
  [
    "the blob store ({store}) cannot store the content now; nothing was recorded, try again later",
    "kho lưu tệp ({store}) hiện không lưu được nội dung; chưa có gì được ghi nhận, vui lòng thử lại sau",
  ],
  [
    "the blob store ({store}) cannot be reached for now; try again in a few seconds",
    "kho lưu tệp ({store}) tạm thời không truy cập được; vui lòng thử lại sau ít giây",
  ],
  [
    "the connection to the database was lost as it recorded this: it may have been recorded; look before you try again",
    "mất kết nối tới cơ sở dữ liệu đúng lúc đang ghi: việc này có thể đã được ghi nhận; hãy kiểm tra lại trước khi thử lại",
  ],
  [
    "the database is busy or cannot be reached for now; nothing was recorded, try again in a few seconds",
    "cơ sở dữ liệu đang bận hoặc tạm thời không truy cập được; chưa có gì được ghi, vui lòng thử lại sau ít giây",
  ],
  ["/metrics needs Authorization: Bearer with the node's metrics token (EDOC_METRICS_TOKEN)", "/metrics cần tiêu đề Authorization: Bearer kèm mã truy cập số liệu của nút (EDOC_METRICS_TOKEN)"],
  [
    "/metrics answers only on this node's own machine (loopback); to scrape it from elsewhere, set EDOC_METRICS_TOKEN and send it as a bearer token",
    "/metrics chỉ trả lời trên chính máy của nút (loopback); muốn lấy số liệu từ nơi khác, hãy đặt EDOC_METRICS_TOKEN và gửi nó làm mã bearer",
  ],
  ["{self:message} is older than {other:message}, which it would follow", "{self} được ký trước {other}, trạng thái mà nó phải theo sau"],
  ["{self:message} is older than the open take-back request {other:message}, so it does not answer it", "{self} được ký trước yêu cầu lấy lại đang mở {other}, nên không phải là câu trả lời cho yêu cầu đó"],
  ["{self:message} is older than {other:message}, the answer to the previous take-back request", "{self} được ký trước {other}, câu trả lời cho yêu cầu lấy lại trước đó"],
  ["{code}, signed {time},", "{code}, ký lúc {time},"],
  ["the packet is refused while it arrives: {why:message}", "gói tin bị từ chối ngay khi đang được gửi đến: {why}"],
  ["the packet's XML outside attachments exceeds {n} bytes", "phần XML của gói tin ngoài các tệp đính kèm vượt quá {n} byte"],
  ["an element has more than {n} attributes", "một phần tử có hơn {n} thuộc tính"],
  ["a tag of the packet is longer than {n} bytes", "một thẻ của gói tin dài hơn {n} byte"],
  ["more than {n} attachments", "hơn {n} tệp đính kèm"],
  ["{code} (signed {time})", "{code} (ký lúc {time})"],
  ["{name}: a whole number from 1{upTo:message}, not {value}", "{name}: phải là số nguyên từ 1{upTo}, không phải {value}"],
  [" to {max}", " đến {max}"],
  ['direction: "in" (received) or "out" (sent), not {value}', 'direction: "in" (văn bản đến) hoặc "out" (văn bản đi), không phải {value}'],
  ["status: one of {list}, not {value}", "status: một trong các giá trị {list}, không phải {value}"],
  ["from ({from}) is after to ({to})", 'ngày "from" ({from}) muộn hơn ngày "to" ({to})'],
  ["role is required: {roles}", "role là trường bắt buộc: {roles}"],
  ["role {value} is not a role; the roles are {roles}", "role {value} không phải là vai trò; các vai trò là {roles}"],
  ['expiresIn: a duration such as "90d", "12h" or "30m"', 'expiresIn: phải là một khoảng thời gian như "90d", "12h" hoặc "30m"'],
  ["password: 10 to 200 characters", "password: từ 10 đến 200 ký tự"],
  ["username: 1 to 64 letters, digits, dots, dashes or underscores", "username: từ 1 đến 64 chữ cái, chữ số, dấu chấm, dấu gạch ngang hoặc dấu gạch dưới"],
  ["before: an audit entry id, not {value}", "before: phải là số hiệu của một mục nhật ký, không phải {value}"],
  ["action: an action name such as user.add, or its first part (user), not {value}", "action: phải là tên một hành động, ví dụ user.add, hoặc phần đầu của tên (user), không phải {value}"],
  // the administrators' pages (app/admin.ts, app/trust.ts, app/setup.ts, app/snapshots.ts)
  ["manage the agencies of this node", "quản lý các cơ quan của nút này"],
  ["add agencies to this node", "thêm cơ quan vào nút này"],
  ["read the trust anchors", "xem các chứng thư tin cậy"],
  ["read the delivery queue", "xem hàng đợi gửi"],
  ["read the registry's sync state", "xem tình trạng đồng bộ danh bạ"],
  ["send failed deliveries again", "gửi lại các lượt gửi không thành công"],
  ["the PKCS#12 identity cannot be opened: the file or its password is wrong", "không mở được tệp PKCS#12: tệp hoặc mật khẩu không đúng"],
  ["the file holds no readable certificate (PEM or DER)", "tệp không chứa chứng thư số đọc được (PEM hoặc DER)"],
  ["the file is not a readable revocation list (CRL, PEM or DER)", "tệp không phải danh sách thu hồi đọc được (CRL, PEM hoặc DER)"],
  [
    "{what} must be an organ id or an Organization object (OrganId, OrganName, …), not {value}",
    "{what} phải là mã định danh cơ quan hoặc một đối tượng Organization (OrganId, OrganName, …), không phải {value}",
  ],
  ["To must be a list of organ ids or Organization objects, not {value}", "To phải là danh sách mã định danh cơ quan hoặc đối tượng Organization, không phải {value}"],
  ['Code must be "số/ký hiệu" (e.g. "45/QĐ-VPCP") or {CodeNumber, CodeNotation}', 'Code phải có dạng "số/ký hiệu" (ví dụ "45/QĐ-VPCP") hoặc {CodeNumber, CodeNotation}'],
  ["DocumentType must be an object: {Type, TypeName}", "DocumentType phải là một đối tượng: {Type, TypeName}"],

  // ---- the compose form and the indicators (app/compose.ts, app/indicators.ts)
  ["DocumentType/TypeName: choose a kind of document from the list", "DocumentType/TypeName: hãy chọn một loại văn bản trong danh sách"],
  ["To: choose at least one recipient", "To: hãy chọn ít nhất một nơi nhận"],
  ["Attachments: a document must carry at least one file", "Attachments: văn bản phải có ít nhất một tệp đính kèm"],
  ["the form has no key: reload the page and send it again", "biểu mẫu không có mã gửi: hãy tải lại trang rồi gửi lại"],
  ["OtherInfo/Priority: choose one of the list", "OtherInfo/Priority: hãy chọn một mức trong danh sách"],
  ["the fields are those of the compose page", "các trường là các trường của trang soạn văn bản"],
  ["the parameters are from, to", 'các tham số là "from" và "to"'],
  ["the period is not valid", "khoảng thời gian không hợp lệ"],

  // ---- the HTTP doors (server/)
  [
    'send the document as multipart/form-data: a field "metadata" with the MessageHeader fields as JSON, and one or more files in the field "files"',
    'hãy gửi văn bản dưới dạng multipart/form-data: trường "metadata" chứa các trường của MessageHeader dạng JSON, và một hoặc nhiều tệp trong trường "files"',
  ],
  ["wrong content type {type}: send JSON (Content-Type: application/json), for example {example}", "kiểu nội dung {type} không đúng: hãy gửi JSON (Content-Type: application/json), ví dụ {example}"],
  ["the body must be a JSON object, for example {example}", "nội dung yêu cầu phải là một đối tượng JSON, ví dụ {example}"],
  ["wrong content type {type}: {hint:message}", "kiểu nội dung {type} không đúng: {hint}"],
  ["a document must carry at least one file: {hint:message}", "văn bản phải có ít nhất một tệp: {hint}"],
  [
    "wrong content type {type}: send the packet (application/xml) or the evidence bundle (application/zip) itself as the request body",
    "kiểu nội dung {type} không đúng: hãy gửi chính gói tin (application/xml) hoặc gói chứng cứ (application/zip) làm nội dung yêu cầu",
  ],
  ["the body is larger than this node verifies (at most {max} bytes)", "nội dung yêu cầu lớn hơn mức máy chủ này kiểm tra (tối đa {max} byte)"],
  [
    "the body is empty: send the packet (application/xml) or the evidence bundle (application/zip) as the request body",
    "nội dung yêu cầu trống: hãy gửi gói tin (application/xml) hoặc gói chứng cứ (application/zip) làm nội dung yêu cầu",
  ],
  ["the file{file} is larger than this node accepts (at most {max} bytes per file)", "tệp{file} lớn hơn mức máy chủ này chấp nhận (tối đa {max} byte mỗi tệp)"],
  ['the field "{field}" is too large (at most {max} bytes)', 'trường "{field}" quá lớn (tối đa {max} byte)'],
  ["too many files: a document carries at most {max}", "quá nhiều tệp: mỗi văn bản có tối đa {max} tệp"],
  ['unexpected file field "{field}": put every file in the field "files"', 'không chấp nhận trường tệp "{field}": hãy đặt mọi tệp vào trường "files"'],
  ["the multipart body is not acceptable ({why}): {hint:message}", "nội dung multipart không được chấp nhận ({why}): {hint}"],
  ["the multipart body cannot be read ({why}): {hint:message}", "không đọc được nội dung multipart ({why}): {hint}"],
  ["unexpected form field{s} {names}: {hint:message}", "không chấp nhận trường biểu mẫu {names}: {hint}"],
  [
    'the form field "metadata" is missing: it holds the MessageHeader fields as JSON, for example {"To":["000.00.00.H41"],"Code":"45/QĐ-VPCP","Subject":"…","DocumentType":{"Type":1,"TypeName":"Quyết định"}}',
    'thiếu trường biểu mẫu "metadata": trường này chứa các trường của MessageHeader dạng JSON, ví dụ {"To":["000.00.00.H41"],"Code":"45/QĐ-VPCP","Subject":"…","DocumentType":{"Type":1,"TypeName":"Quyết định"}}',
  ],
  ['send the form field "metadata" once, as one JSON text', 'hãy gửi trường biểu mẫu "metadata" một lần, dưới dạng một chuỗi JSON'],
  ['the form field "metadata" is not valid JSON: {why}', 'trường biểu mẫu "metadata" không phải là JSON hợp lệ: {why}'],
  ["no such endpoint: {method} {path}", "không có điểm truy cập này: {method} {path}"],
  ["internal error; the incident was logged", "lỗi nội bộ; sự cố đã được ghi nhật ký"],
  ["the upload is larger than this node accepts", "dữ liệu tải lên lớn hơn mức máy chủ này chấp nhận"],
  ["the request body is not valid JSON", "nội dung yêu cầu không phải là JSON hợp lệ"],
  ["the upload is not acceptable: {why}", "dữ liệu tải lên không được chấp nhận: {why}"],
  ["the request cannot be read: {why}", "không đọc được yêu cầu: {why}"],
  ["the node is busy checking other sign-ins; try again in a moment", "nút đang bận kiểm tra các lượt đăng nhập khác; vui lòng thử lại sau ít phút"],
  ["an edXML packet is UTF-8: send it with charset=utf-8 or with no charset, not {charset}", "gói tin edXML dùng mã UTF-8: hãy gửi với charset=utf-8 hoặc không ghi charset, không phải {charset}"],
  ["an edXML packet is sent as application/xml, not {type}", "gói tin edXML phải được gửi dưới dạng application/xml, không phải {type}"],
  ["the packet is {size} bytes; this node accepts at most {max}", "gói tin có {size} byte; máy chủ này chỉ nhận tối đa {max} byte"],
  ["the request has no body; send one edXML packet as application/xml", "yêu cầu không có nội dung; hãy gửi một gói tin edXML dưới dạng application/xml"],
  ["the body is not an edXML packet: {why}", "nội dung không phải là gói tin edXML: {why}"],
  ["the packet is larger than this node accepts ({max} bytes)", "gói tin lớn hơn mức máy chủ này chấp nhận ({max} byte)"],
  ["the request was aborted by the client", "phía gửi đã hủy yêu cầu giữa chừng"],
  ["the database does not answer", "cơ sở dữ liệu không phản hồi"],

  // ---- edXML rules, named by their edXML path (envelopes/validate.ts, envelopes/input.ts)
  ["{path} is required but missing.", "Thiếu {path} (trường bắt buộc)."],
  ["{path} must be text, got {value:message}.", "{path} phải là chuỗi ký tự, nhưng nhận được {value}."],
  ["the number {n}", "số {n}"],
  ["a list", "một danh sách"],
  ["an object", "một đối tượng"],
  ["missing or not a number", "giá trị thiếu hoặc không phải là số"],
  ["{path} is required but contains only spaces.", "{path} là trường bắt buộc nhưng chỉ chứa khoảng trắng."],
  ["{path} is {n} characters long; at most {max} are allowed.", "{path} dài {n} ký tự; chỉ được tối đa {max} ký tự."],
  [
    "{path} {value} is not a valid organ id for our own agency: expected the form 000.00.00.G22 (3 digits, 2 digits, 2 digits, then a capital letter and 2 digits, separated by dots).",
    "{path} {value} không phải là mã định danh hợp lệ của cơ quan mình: cần có dạng 000.00.00.G22 (3 chữ số, 2 chữ số, 2 chữ số, rồi một chữ cái in hoa và 2 chữ số, phân cách bằng dấu chấm).",
  ],
  ["{path} {value} is not a valid organ id: expected 1 to 35 letters, digits or dots.", "{path} {value} không phải là mã định danh hợp lệ: cần từ 1 đến 35 chữ cái, chữ số hoặc dấu chấm."],
  ["{path} is required but missing or not a number.", "{path} là trường bắt buộc nhưng đang thiếu hoặc không phải là số."],
  ["{path} is not a number.", "{path} không phải là số."],
  ["{path} must be a whole number, got {value:message}.", "{path} phải là số nguyên, nhưng nhận được {value}."],
  ["{path} is {n}; it must be 0 or more.", "{path} bằng {n}; giá trị phải từ 0 trở lên."],
  ["{path} is {n}; it must be {words:message}.", "{path} bằng {n}; giá trị phải là {words}."],
  ["0 (Thường), 1 (Khẩn), 2 (Thượng khẩn), 3 (Hỏa tốc) or 4 (Hỏa tốc hẹn giờ)", "0 (Thường), 1 (Khẩn), 2 (Thượng khẩn), 3 (Hỏa tốc) hoặc 4 (Hỏa tốc hẹn giờ)"],
  ["0 (new), 1 (revoke), 2 (update) or 3 (replace)", "0 (văn bản mới), 1 (thu hồi), 2 (cập nhật) hoặc 3 (thay thế)"],
  ["0 or 1", "0 hoặc 1"],
  ["0 (removed from the recipients) or 1 (newly added)", "0 (bỏ khỏi danh sách nơi nhận) hoặc 1 (nơi nhận mới bổ sung)"],
  ["{path} {value} is not a date in the form yyyy/MM/dd.", "{path} {value} không phải là ngày dạng yyyy/MM/dd."],
  ["{path} {value} is not a real calendar date.", "{path} {value} không phải là ngày có thật."],
  ["{path} {value} is in the future (today in Vietnam is {today}).", "{path} {value} là ngày trong tương lai (hôm nay tại Việt Nam là {today})."],
  ["{path} {value} is not a timestamp in the form yyyy/MM/dd HH:mm:ss.", "{path} {value} không phải là thời điểm dạng yyyy/MM/dd HH:mm:ss."],
  ["{path} {value} is not a real date and time.", "{path} {value} không phải là ngày giờ có thật."],
  [
    "{path} {value} is in the future (now in Vietnam is {now}; up to {minutes} minutes of clock difference is tolerated).",
    "{path} {value} là thời điểm trong tương lai (bây giờ tại Việt Nam là {now}; cho phép đồng hồ lệch tối đa {minutes} phút).",
  ],
  ["{path} {value} is not a valid e-mail address.", "{path} {value} không phải là địa chỉ thư điện tử hợp lệ."],
  ["{path} contains the character U+{code}, which cannot be carried in XML.", "{path} chứa ký tự U+{code}, là ký tự không thể đưa vào XML."],
  ["The packet has no MessageHeader.", "Gói tin không có MessageHeader."],
  ["To: at least one recipient is required.", "To: cần có ít nhất một nơi nhận."],
  ["To: recipient {id} is listed more than once.", "To: nơi nhận {id} được ghi nhiều lần."],
  ["DocumentType/Type is {n}; documents we send must use 1 or 2.", "DocumentType/Type bằng {n}; văn bản cơ quan mình gửi phải dùng 1 hoặc 2."],
  [
    "Bussiness/DocumentId is required for a revocation (BussinessDocType 1): it names the document being revoked.",
    "Bussiness/DocumentId là trường bắt buộc khi thu hồi (BussinessDocType 1): trường này ghi văn bản bị thu hồi.",
  ],
  [
    "Bussiness/DocumentId is required for an update (BussinessDocType 2): it names the document being updated.",
    "Bussiness/DocumentId là trường bắt buộc khi cập nhật (BussinessDocType 2): trường này ghi văn bản được cập nhật.",
  ],
  ["Bussiness/BussinessDocumentInfo is required for an update (BussinessDocType 2).", "Bussiness/BussinessDocumentInfo là trường bắt buộc khi cập nhật (BussinessDocType 2)."],
  [
    "Bussiness/ReplacementInfoList must list at least one replaced document for a replacement (BussinessDocType 3).",
    "Bussiness/ReplacementInfoList phải liệt kê ít nhất một văn bản bị thay thế khi thay thế văn bản (BussinessDocType 3).",
  ],
  ["{path}/ContentId {value} is used by more than one attachment.", "{path}/ContentId {value} được dùng cho nhiều tệp đính kèm."],
  [
    "ResponseFor is required but missing: a status packet must name the document it reports on.",
    "Thiếu ResponseFor (trường bắt buộc): gói tin trạng thái phải ghi rõ văn bản được báo trạng thái.",
  ],
  ["StatusCode {value} is not a known status code; use one of {codes}.", "StatusCode {value} không phải là mã trạng thái hợp lệ; hãy dùng một trong các mã {codes}."],
  ["{what} must be an organ id or an object with OrganId", "{what} phải là mã định danh cơ quan hoặc một đối tượng có OrganId"],
  ['Code must look like "số/ký hiệu", for example "123/QĐ-UBND"', 'Code phải có dạng "số/ký hiệu", ví dụ "123/QĐ-UBND"'],
  ["the header must be a JSON object with the MessageHeader fields", "phần tiêu đề phải là một đối tượng JSON chứa các trường của MessageHeader"],
  // the national axle (app/vdxp.ts, app/vdxp-protocol.ts)
  ["acceptUnsigned: true or false, not {value}", "acceptUnsigned: true hoặc false, không phải {value}"],
  ["send the fingerprint", "hãy gửi trường fingerprint"],
  ["fingerprint {value} is not a SHA-256 fingerprint (64 hex digits)", "fingerprint {value} không phải là dấu vân tay SHA-256 (64 chữ số thập lục phân)"],
  ["the hub answered {status} (ErrorCode {code}): {desc}", "trục liên thông trả lời {status} (ErrorCode {code}): {desc}"],
  [
    "{organ} is reached through the national axle (endpoint vdxp:), but this node has no hub: set EDOC_VDXP_ENDPOINT, EDOC_VDXP_SYSTEM_ID and EDOC_VDXP_SECRET",
    "{organ} được liên thông qua trục liên thông văn bản quốc gia (endpoint vdxp:), nhưng nút này chưa kết nối trục: hãy đặt EDOC_VDXP_ENDPOINT, EDOC_VDXP_SYSTEM_ID và EDOC_VDXP_SECRET",
  ],
  ["the stored packet {sha} is missing", "không tìm thấy gói tin đã lưu {sha}"],
  [
    "this node has no national axle hub: set EDOC_VDXP_ENDPOINT, EDOC_VDXP_SYSTEM_ID and EDOC_VDXP_SECRET",
    "nút này chưa kết nối trục liên thông văn bản quốc gia: hãy đặt EDOC_VDXP_ENDPOINT, EDOC_VDXP_SYSTEM_ID và EDOC_VDXP_SECRET",
  ],
  ["the confirmation is not valid", "xác nhận không hợp lệ"],
  [
    "no certificate of {organ} waits for confirmation: none was seen in a packet from it, or one is bound already",
    "không có chứng thư số nào của {organ} đang chờ xác nhận: chưa thấy chứng thư số trong gói tin nào của cơ quan này, hoặc đã gắn một chứng thư số",
  ],
  [
    "give the SHA-256 fingerprint of the certificate you checked with {organ}: the one waiting is {fingerprint}",
    "hãy nhập dấu vân tay SHA-256 của chứng thư số đã đối chiếu với {organ}: chứng thư số đang chờ có dấu vân tay {fingerprint}",
  ],
  ["the hub's agency directory could not be read: {reason}", "không đọc được danh bạ cơ quan của trục liên thông: {reason}"],
];

/** Most specific first: where several templates match a text, the one with the most fixed text wins. */
const ENTRIES = CATALOG.map(compile).sort((a, b) => b.literal - a.literal);
