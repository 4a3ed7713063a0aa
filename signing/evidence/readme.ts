// README.txt of a bundle: what it is and how to check it, in Vietnamese and in English.
import { EDXML_NS, STATUS_CODES, XADES_NS } from "../../envelopes/index.ts";
import { MANIFEST_SIGNATURE_PATH, type EvidenceManifest } from "./layout.ts";

export function readmeText(m: EvidenceManifest): string {
  const r = m.record;
  const statuses = m.statuses.length
    ? m.statuses.map((s) => `  ${s.path}  ${s.code} ${STATUS_CODES[s.code as keyof typeof STATUS_CODES] ?? ""} — ${s.from} — ${s.at}`).join("\n")
    : "  (không có — none)";
  const pub = m.publisher;
  const attachments = m.attachments.length ? m.attachments.map((a) => `  ${a.path}`).join("\n") : "  (không có — none)";
  const sealStamp =
    m.sealTimestamp === "requested"
      ? {
          vi: `Hồ sơ này: nút đã xin dấu thời gian đó khi lập hồ sơ; nếu ${MANIFEST_SIGNATURE_PATH} không có phần
xades:SignatureTimeStamp thì đơn vị cấp dấu thời gian đã không trả lời lúc đó.`,
          en: `This bundle: the node asked for that stamp when it made the bundle; if ${MANIFEST_SIGNATURE_PATH} has no
xades:SignatureTimeStamp, the time-stamping authority did not answer then.`,
        }
      : {
          vi: "Hồ sơ này: khi lập hồ sơ, nút không có đơn vị cấp dấu thời gian, nên chữ ký niêm phong không có dấu.",
          en: "This bundle: the node had no time-stamping authority when it made it, so its seal has no stamp.",
        };
  return `HỒ SƠ CHỨNG CỨ VĂN BẢN ĐIỆN TỬ — ELECTRONIC DOCUMENT EVIDENCE BUNDLE
Định dạng / format: ${m.format}
Lập lúc / created: ${m.created}

Văn bản / document
  Số, ký hiệu / number:   ${r.code}
  Trích yếu / subject:    ${r.subject}
  DocumentId:             ${r.documentId}
  Chiều / direction:      ${r.direction === "out" ? "gửi đi / sent" : "nhận đến / received"}
  Cơ quan gửi / from:     ${r.from}
  Cơ quan nhận / to:      ${r.to.join(", ")}
  Mã hồ sơ nút / node id: ${r.id}
  Kiểm tra chữ ký lúc / signature checked at: ${m.verifiedAt}

TIẾNG VIỆT

Tệp nén này chứng minh văn bản nào đã được gửi, do ai ký, vào lúc nào, và bên kia đã xác nhận những
trạng thái nào. Nội dung:
  packet.edxml        gói tin edXML đã ký số, nguyên vẹn từng byte (chữ ký của cơ quan gửi)
  attachments/        các tệp đính kèm, giải mã từ gói tin
  statuses/           các gói tin trạng thái đã ký số (01 Đã đến, 03 Đã tiếp nhận, 06 Hoàn thành, …),
                      do bên kia ký (mã 13 "Lấy lại" do cơ quan gửi ký)
  report.json         kết quả kiểm tra chữ ký khi nhận hoặc gửi văn bản
  trust/              chứng thư số của người ký, chứng thư số gốc đã dùng, danh bạ cơ quan
                      (registry.json: mã định danh → dấu vân tay chứng thư số) và bản sao chứng thư
                      số của nút lập hồ sơ (publisher-…)
  audit-checkpoint.json
                      điểm kiểm tra đã ký của nhật ký hệ thống (nếu có): nhật ký của nút đã có ít
                      nhất "seq" dòng, kết thúc bằng mã băm "hash", vào lúc "at"; lệnh
                      bin/edoc audit verify trên nút chỉ ra nếu sau đó nhật ký bị sửa, xóa hay cắt bớt
  manifest.json       danh sách mọi tệp với mã băm SHA-256 và kích thước
  ${MANIFEST_SIGNATURE_PATH}
                      chữ ký số của nút lập hồ sơ trên đúng từng byte của manifest.json (niêm phong
                      hồ sơ), kèm dấu thời gian của chữ ký đó khi có

Cách kiểm tra:
  bin/edoc verify TỆP.zip --trust CA-GỐC.pem [--tsa-trust CA-DẤU-THỜI-GIAN.pem] --registry-cert NÚT.pem [--registry DANH-BẠ] [--crl CRL.pem] [--at THỜI-ĐIỂM]
Lệnh kiểm tra lại mọi chữ ký, mọi mã băm, và đối chiếu tệp đính kèm với gói tin đã ký; kết quả 0 là
hợp lệ, 1 là không hợp lệ. Chứng thư số gốc (--trust) phải lấy từ nguồn chính thức (Ban Cơ yếu
Chính phủ), không lấy từ thư mục trust/ của hồ sơ này: tệp trong trust/ chỉ để đối chiếu dấu vân tay.
Chữ ký của nút: nút lập hồ sơ (cơ quan công bố danh bạ ${pub.organId}) ký manifest.json; manifest.json
ghi mã băm của mọi tệp khác, nên không tệp nào (gói tin trạng thái, danh bạ trust/registry.json, …)
bị thêm, bớt hay sửa mà chữ ký vẫn đúng. Chứng thư số cần ghim bằng --registry-cert là chứng thư số
công bố danh bạ của nút đó (tệp các nút khác dùng làm EDOC_REGISTRY_CERT), lấy qua kênh chính thức,
có dấu vân tay SHA-256
  ${pub.fingerprint}
Tệp ${pub.certificate} chỉ là bản sao để đối chiếu: đừng ghim chính tệp trong hồ sơ.
Danh bạ: có --registry thì dùng danh bạ đó. Không có --registry thì danh bạ trong hồ sơ chỉ được dùng
khi chữ ký trên manifest.json là của chứng thư số đã ghim bằng --registry-cert; một chứng thư số chỉ
có chuỗi đến CA gốc không chứng minh được quyền ký cho cơ quan nào. Không có cả hai thì kết quả là
SIGNER_NOT_BOUND (không hợp lệ).
Niêm phong hồ sơ và dấu thời gian của nó: chữ ký của nút trên manifest.json giống như dấu niêm phong
trên phong bì: nó cho biết không tệp nào bị thêm, bớt hay sửa sau khi lập hồ sơ. Nhưng một chữ ký số
chỉ tự chứng minh được khi chứng thư số của người ký còn hiệu lực, mà chứng thư số chỉ có hạn vài năm.
Vì vậy khi nút có đơn vị cấp dấu thời gian, lúc lập hồ sơ nút xin một dấu thời gian RFC 3161 đóng lên
chính chữ ký niêm phong (nằm trong ${MANIFEST_SIGNATURE_PATH}, phần xades:SignatureTimeStamp): dấu này
chứng minh niêm phong đã có vào thời điểm ghi trên dấu, nên nhiều năm sau chứng thư số của nút vẫn được
kiểm tra tại thời điểm đó và hồ sơ vẫn hợp lệ (cần --tsa-trust).
${sealStamp.vi}
Niêm phong không có dấu thời gian được công nhận, khi chứng thư số của nút đã hết hạn: không còn gì
chứng minh nó được ký khi nào. Nếu chữ ký vẫn đúng và chứng thư số hợp lệ, không bị thu hồi, tại thời
điểm ghi trong chữ ký, đó chỉ là một cảnh báo, với điều kiện mọi văn bản trong hồ sơ đều tự chứng minh
được bằng bằng chứng riêng của nó: chữ ký và dấu thời gian của gói tin, chữ ký của các gói tin trạng
thái, dấu thời gian lưu trữ. Nếu một bằng chứng riêng nào không hợp lệ thì hồ sơ không hợp lệ. Một
tệp bị sửa, chữ ký niêm phong sai hay giả, chứng thư số của nút bị thu hồi hoặc không tin cậy: hồ sơ
luôn không hợp lệ. Kết quả của bin/edoc verify ghi rõ kết luận dựa trên bằng chứng nào (dòng
"verdict rests on — kết luận dựa trên").
Gói tin không có dấu thời gian nào (mức B-B): sau nhiều năm chứng thư số có thể đã hết hạn, kết quả sẽ
là EXPIRED. Nếu chấp nhận thời điểm kiểm tra đã ghi (có xác nhận khác như nhật ký hệ thống, sổ văn
bản), hãy chạy lại với
  --at ${m.verifiedAt}
(thời điểm "verifiedAt" trong manifest.json).
Dấu thời gian (mức B-T): khi gói tin mang dấu thời gian RFC 3161 của một đơn vị cấp dấu thời gian
(trong chữ ký, hoặc tệp timestamps/….tst đặt cạnh gói tin khi lúc gửi đơn vị đó không trả lời), dấu
này chứng minh chữ ký đã có vào thời điểm ghi trên dấu; chứng thư số của người ký được kiểm tra tại
thời điểm đó, nên vẫn hợp lệ sau khi hết hạn. Thêm --tsa-trust CA-DẤU-THỜI-GIAN.pem (lấy từ nguồn
chính thức; trust/tsa-anchor-… chỉ là bản sao); kết quả ghi "level": "B-T".
Dấu thời gian lưu trữ: archive/<tệp>.json chứng minh tệp đó đã tồn tại, không đổi, vào thời điểm ghi
trên dấu thời gian của gốc cây Merkle mà nút đã xin cấp (đường dẫn từ mã băm của tệp lên gốc, và dấu
thời gian RFC 3161 trên 32 byte của gốc); bin/edoc verify kiểm tra cả hai, với --tsa-trust.
Một dấu thời gian chỉ đáng tin khi chứng thư số của đơn vị cấp dấu còn hiệu lực. Vì vậy, trước khi
chứng thư đó hết hạn, nút xin một dấu thời gian mới đóng lên chính dấu cũ (gia hạn, "renewals" trong
tệp, theo thứ tự), như niêm phong thêm một lớp lên phong bì đã niêm phong: lớp mới chứng minh lớp cũ
vẫn còn nguyên và còn hiệu lực vào lúc đóng lớp mới. Chuỗi dấu đó (RFC 4998) được kiểm tra từng mắt:
dấu đầu tiên đóng trên gốc, mỗi dấu sau đóng trên dấu liền trước, mỗi dấu hợp lệ vào thời điểm ghi
trên dấu kế tiếp, và dấu cuối cùng hợp lệ vào lúc kiểm tra (hoặc --at). Thời điểm được chứng minh là
thời điểm của dấu đầu tiên. Nhờ vậy nhiều năm sau, khi mọi chứng thư cũ đã hết hạn, chuỗi vẫn chứng
minh được; một mắt bị sửa, đổi thứ tự hoặc bị bỏ thì kết quả nêu rõ mắt nào bị đứt.
Không có chương trình edoc: xem mục cuối.

ENGLISH

This archive proves which document was sent, who signed it, when, and which processing statuses the
other party acknowledged. Contents:
  packet.edxml        the signed edXML packet, byte-exact (signed by the sending agency)
  attachments/        the attachments, decoded from the packet
  statuses/           the signed status packets (01 arrived, 03 accepted, 06 done, …), signed by the
                      other party (code 13 "take back" is signed by the sender)
  report.json         the signature verification report made when the document was received or sent
  trust/              the signer certificates, the trust anchor(s) used, the agency registry
                      (registry.json: organ id → certificate fingerprints), and a copy of the
                      certificate of the node that made the bundle (publisher-…)
  audit-checkpoint.json
                      the node's signed checkpoint of its audit log (when it has one): the log held
                      at least "seq" rows, ending in the hash "hash", at "at"; bin/edoc audit verify
                      on the node shows whether the log was edited, cut or rewritten since
  manifest.json       every file with its SHA-256 digest and size
  ${MANIFEST_SIGNATURE_PATH}
                      the signature of the node that made the bundle over manifest.json's exact bytes
                      (the bundle's seal), with that signature's time-stamp when it has one

How to check it:
  bin/edoc verify BUNDLE.zip --trust ROOT-CA.pem [--tsa-trust TSA-CA.pem] --registry-cert NODE.pem [--registry REGISTRY] [--crl CRL.pem] [--at TIME]
It re-checks every signature and every digest, and compares the attachments with the signed packet;
exit status 0 means valid, 1 not valid. Take the root certificate (--trust) from an official source,
not from this bundle's trust/ folder: its files are there only to compare fingerprints.
The node's signature: the node that made the bundle (its registry publisher, agency ${pub.organId})
signs manifest.json, which holds the digest of every other file, so no file (a status packet, the
registry trust/registry.json, …) can be added, left out or changed without breaking it. The
certificate to pin with --registry-cert is that node's registry publisher certificate (the file other
nodes use as EDOC_REGISTRY_CERT), obtained through an official channel; its SHA-256 fingerprint is
  ${pub.fingerprint}
${pub.certificate} is only a copy to compare with: never pin the file inside the bundle.
The registry: with --registry, yours is used. Without it, the bundle's own registry counts only when
the certificate you pinned with --registry-cert signed manifest.json; a certificate that merely chains
to the root CA proves nothing about which agency it may sign for. With neither, the answer is
SIGNER_NOT_BOUND (not valid).
The bundle's seal and its time-stamp: the node's signature over manifest.json is like the seal on an
envelope: it shows that no file was added, left out or changed after the bundle was made. But a
digital signature proves itself only while the signer's certificate is valid, and certificates last
only a few years. So when the node has a time-stamping authority, it asks it, as it makes the bundle,
for an RFC 3161 time-stamp over the seal itself (inside ${MANIFEST_SIGNATURE_PATH}, its
xades:SignatureTimeStamp): the stamp proves the seal existed at the time it states, so years later
the node's certificate is checked at that time and the bundle still holds (with --tsa-trust).
${sealStamp.en}
A seal without a time-stamp that counts, once the node's certificate has expired: nothing proves when
it was made. If its signature is correct and its certificate was valid, and is not revoked, at the
time the seal states, that is only a warning, provided that every document in the bundle proves
itself with its own proofs: the packet's signature and time-stamp, the status packets' signatures,
the archive time-stamps. If any of them does not hold, the bundle is not valid. A file changed, a
wrong or forged seal, a revoked or untrusted node certificate: the bundle is never valid. The output
of bin/edoc verify says which proof the verdict rests on (the line "verdict rests on — kết luận dựa
trên").
A packet without any time-stamp (level B-B): years later its certificate may have expired and the
answer is then EXPIRED. If you accept the recorded verification time (on other evidence such as
system logs or the document register), run again with
  --at ${m.verifiedAt}
(the "verifiedAt" time in manifest.json).
Time-stamps (level B-T): when the packet carries an RFC 3161 time-stamp from a time-stamping
authority (inside its signature, or as a timestamps/….tst file beside it when that authority did not
answer at sending time), the stamp proves the signature existed at the time it states; the signer's
certificate is checked at that time, so it stays valid after it expires. Add --tsa-trust TSA-CA.pem
(from an official source; trust/tsa-anchor-… is only a copy); the report then says "level": "B-T".
Archive time-stamps: archive/<file>.json proves that file existed, unchanged, at the time stated by
the time-stamp of a Merkle tree root the node had stamped (the path from the file's digest up to the
root, and an RFC 3161 stamp over the root's 32 bytes); bin/edoc verify checks both, with --tsa-trust.
A time-stamp can only be trusted while the certificate of the authority that made it is valid. So,
before that certificate expires, the node gets a new time-stamp over the old one (a renewal,
"renewals" in the file, in order), like sealing a sealed envelope once more: the new seal proves the
old one was intact and still valid when the new one was put on. That chain of stamps (RFC 4998) is
checked link by link: the first stamp is over the root, each next stamp over the one before it, each
stamp valid at the time the next one states, and the last one valid now (or at --at). The time proven
is the first stamp's. So years later, after every old certificate expired, the chain still proves it;
a link changed, reordered or removed is named in the result.
Without edoc: see the last section.

Tệp đính kèm / attachments:
${attachments}
Trạng thái / statuses:
${statuses}

KHÔNG CÓ CHƯƠNG TRÌNH edoc — WITHOUT edoc
So mã băm của từng tệp ("sha256sum TỆP") với mục "files" trong manifest.json.
Compare each file's digest ("sha256sum FILE") with the "files" list in manifest.json.
Kiểm tra chữ ký bằng xmlsec1 (chỉ kiểm tra chữ ký và chuỗi chứng thư, không kiểm tra danh bạ cơ quan):
Check a signature with xmlsec1 (signature and certificate chain only, not the registry binding):
  xmlsec1 --verify --trusted-pem ROOT-CA.pem --untrusted-pem ${m.trust.signers[0] ?? "trust/signer-….pem"} \
    --enabled-key-data x509 --enabled-reference-uris same-doc \
    --id-attr:Id ${EDXML_NS}:MessageHeader \
    --id-attr:Id ${EDXML_NS}:Bussiness \
    --id-attr:Id ${EDXML_NS}:edXMLManifest \
    --id-attr:Id ${EDXML_NS}:Attachment \
    --id-attr:Id ${XADES_NS}:SignedProperties \
    packet.edxml
Gói tin trạng thái: dùng tệp trust/signer-… của bên gửi trạng thái. / Status packets: use the
trust/signer-… file of the agency that sent the status.
Chữ ký của nút (NÚT.pem lấy qua kênh chính thức), rồi so "sha256" đã ký với "sha256sum manifest.json":
The node's signature (NODE.pem from an official channel), then compare the signed "sha256" with
"sha256sum manifest.json":
  xmlsec1 --verify --pubkey-cert-pem NODE.pem --enabled-key-data key-name --enabled-reference-uris same-doc \
    --id-attr:Id urn:edoc:evidence:1:Manifest --id-attr:Id ${XADES_NS}:SignedProperties \
    ${MANIFEST_SIGNATURE_PATH}
Chuỗi dấu thời gian lưu trữ bằng openssl: trong archive/<tệp>.json, "root" (hex) thành root.bin
("xxd -r -p"), "timestamp" thành t0.der và từng mục của "renewals" thành t1.der, t2.der… ("base64 -d").
Mỗi dấu kiểm tra trên dấu trước (t0 trên root.bin), tại thời điểm của dấu sau (giây kể từ 1970, đọc
bằng "openssl ts -reply -in t1.der -token_in -text"); dấu cuối cùng tại thời điểm hiện tại:
The chain of archive time-stamps with openssl: in archive/<file>.json, "root" (hex) into root.bin
("xxd -r -p"), "timestamp" into t0.der and each "renewals" entry into t1.der, t2.der… ("base64 -d").
Check each stamp over the one before (t0 over root.bin) at the time of the next one (seconds since
1970, read with "openssl ts -reply -in t1.der -token_in -text"); the last one at the present time:
  openssl ts -verify -data root.bin -in t0.der -token_in -CAfile TSA-CA.pem -attime GIÂY-CỦA-t1/SECONDS-OF-t1
  openssl ts -verify -data t0.der -in t1.der -token_in -CAfile TSA-CA.pem
Dấu thời gian của niêm phong bằng openssl: trong ${MANIFEST_SIGNATURE_PATH}, nội dung của
xades:EncapsulatedTimeStamp thành seal.tst ("base64 -d"), và giá trị của ds:SignatureValue (GIÁ-TRỊ)
vào đúng dòng sau, không xuống dòng, thành sv.xml:
The seal's time-stamp with openssl: in ${MANIFEST_SIGNATURE_PATH}, the content of
xades:EncapsulatedTimeStamp into seal.tst ("base64 -d"), and the ds:SignatureValue's value (VALUE)
into exactly this line, without a newline, as sv.xml:
  <ds:SignatureValue xmlns:ds="http://www.w3.org/2000/09/xmldsig#">GIÁ-TRỊ/VALUE</ds:SignatureValue>
  openssl ts -verify -data sv.xml -in seal.tst -token_in -CAfile TSA-CA.pem -attime GIÂY-CỦA-DẤU/SECONDS-OF-THE-STAMP
`;
}
