// Real keys and certificates for the tests, made once per run: a root CA, an intermediate CA and
// agency signers, plus packets with Vietnamese text.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Edoc, StatusPacket } from "../../envelopes/index.ts";
import { fingerprint, packEdoc, type Identity, type TrustConfig, type Registry } from "../../signing/index.ts";
import { issueCertificate } from "../../signing/testing.ts";

export const SENDER = "000.00.00.G22";
export const RECIPIENT = "000.00.00.H41";
export const VIETNAMESE = "Quyết định về việc ban hành Quy chế văn thư — Đ đ ơ ư ấ ậ ỹ";

export interface TestPki {
  root: { certificate: Identity["certificate"]; privateKey: Identity["privateKey"] };
  intermediate: { certificate: Identity["certificate"]; privateKey: Identity["privateKey"] };
  sender: Identity;
  recipient: Identity;
  trust: TrustConfig;
}

let pki: TestPki | undefined;
export function testPki(): TestPki {
  if (pki) return pki;
  const root = issueCertificate({ subject: { CN: "Test Root CA", O: "Ban Cơ yếu (test)" }, ca: true });
  const intermediate = issueCertificate({ subject: { CN: "Test Issuing CA", O: "Ban Cơ yếu (test)" }, issuer: root, ca: true });
  const leaf = (cn: string) => {
    const issued = issueCertificate({ subject: { CN: cn, O: "Test agency" }, issuer: intermediate });
    return { ...issued, chain: [intermediate.certificate] };
  };
  const sender = leaf("Văn phòng Chính phủ (test signer)");
  const recipient = leaf("UBND tỉnh Nghệ An (test signer)");
  pki = { root, intermediate, sender, recipient, trust: { anchors: [root.certificate], crls: [], registry: registryFor({ [SENDER]: sender, [RECIPIENT]: recipient }) } };
  return pki;
}

export function registryFor(agencies: Record<string, Identity | Identity[]>): Registry {
  return new Map(
    Object.entries(agencies).map(([organId, ids]) => [
      organId,
      { organId, certificateFingerprints: ([] as Identity[]).concat(ids).map((i) => fingerprint(i.certificate)) },
    ]),
  );
}

export function sampleEdoc(overrides: Partial<Edoc> = {}, attachmentNames: string[] = []): Edoc {
  return {
    kind: "edoc",
    header: {
      From: { OrganId: SENDER, OrganName: "Văn phòng Chính phủ", OrganAdd: "Số 1 Hoàng Hoa Thám, Quận Ba Đình, Hà Nội" },
      To: [{ OrganId: RECIPIENT, OrganName: "UBND tỉnh Nghệ An" }],
      DocumentId: `${SENDER},2026/11/20,123/QĐ-VPCP`,
      Code: { CodeNumber: "123", CodeNotation: "QĐ-VPCP" },
      PromulgationInfo: { Place: "Hà Nội", PromulgationDate: "2026/11/20" },
      DocumentType: { Type: 1, TypeDetail: 0, TypeName: "Quyết định" },
      Subject: VIETNAMESE,
      Content: "Nội dung trích yếu: đề nghị các đơn vị thực hiện nghiêm túc.",
      SignerInfo: { Competence: "KT. BỘ TRƯỞNG", Position: "Thứ trưởng", FullName: "Nguyễn Văn Đức" },
      OtherInfo: { Priority: 1, SphereOfPromulgation: "Liên thông văn bản quốc gia", PromulgationAmount: 2, PageAmount: 3 },
      SteeringType: 0,
      ToPlaces: ["Như trên", "Lưu: VT"],
    },
    bussiness: { BussinessDocType: 0, BussinessDocReason: "Văn bản điện tử mới", Paper: 0 },
    traces: [{ OrganId: SENDER, Timestamp: "2026/11/20 09:00:00" }],
    attachments: attachmentNames.map((name, i) => ({
      ContentId: `c0ffee00-0000-4000-8000-00000000000${i + 1}`,
      AttachmentName: name,
      ContentType: "application/pdf",
      Description: name,
    })),
    ...overrides,
  };
}

export function sampleStatus(code: StatusPacket["header"]["StatusCode"]): StatusPacket {
  return {
    kind: "status",
    header: {
      From: { OrganId: RECIPIENT, OrganName: "UBND tỉnh Nghệ An" },
      ResponseFor: { OrganId: SENDER, Code: "123/QĐ-VPCP", PromulgationDate: "2026/11/20", DocumentId: `${SENDER},2026/11/20,123/QĐ-VPCP` },
      StaffInfo: { Department: "Văn thư", Staff: "Nguyễn Thị Ngọc Trâm", Mobile: "84912000001", Email: "vanthu@nghean.gov.vn" },
      StatusCode: code,
      Description: "Đã tiếp nhận văn bản điện tử, vào sổ văn bản đến",
      Timestamp: "2026/11/20 10:00:00",
    },
  };
}

/** A scratch directory removed after the run. */
export function scratch(): { dir: string; path(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "edoc-test-"));
  return { dir, path: (name) => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Packs to a scratch file and returns the bytes. */
export async function pack(edoc: Edoc, files: Buffer[], identity: Identity, signingTime?: Date): Promise<Buffer> {
  const s = scratch();
  try {
    await packEdoc(edoc, files.map((bytes) => ({ bytes })), identity, s.path("out.edxml"), { signingTime });
    return readFileSync(s.path("out.edxml"));
  } finally {
    s.cleanup();
  }
}
