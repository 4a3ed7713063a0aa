// The trust decision: a path from a signer certificate to a configured trust anchor, built from an
// untrusted pool and checked per RFC 5280 (CA constraints, validity, revocation, end-entity usage),
// every signature with Node's crypto.
import crypto, { X509Certificate } from "node:crypto";
import type * as X509 from "@peculiar/x509";
import type { SubIndication } from "../report.ts";
import { certificateFacts, fingerprint, label, memo, normSerial, oid, parsed, readTlv, tlvChildren } from "./certificates.ts";
import { crlSignatureOk, type Crl } from "./crl.ts";

export interface ValidateChainOptions {
  leaf: X509Certificate;
  /** Untrusted pool (e.g. from KeyInfo or configuration); only used to build the path. */
  intermediates: X509Certificate[];
  anchors: X509Certificate[];
  crls: Crl[];
  at: Date;
  /** What the leaf's key is for: signing documents (default), or time-stamping (a TSA's token
   *  signer: the extended key usage id-kp-timeStamping, critical and alone, RFC 3161 §2.3). */
  purpose?: "documents" | "timestamping";
  /** When set, revocation is checked as of this time instead of `at`: for a certificate checked at
   *  a time only claimed (no time-stamp proves it), where a revocation up to now must count. */
  revokedBy?: Date;
}

export type ChainResult =
  | { ok: true; path: X509Certificate[]; warnings: string[] }
  | { ok: false; subIndication: SubIndication; message: string; vi: string };

const issuedMemo = memo<boolean>(16384);

function nameKey(name: X509.Name): string {
  return name.toString().toLowerCase().replace(/\s+/g, " ").trim();
}

const day = (d: Date): string => d.toISOString().slice(0, 10);
const stamp = (d: Date): string => d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");

/** Issuer certificates above the leaf: path[i] is at depth i, the deepest allowed is 6. */
const MAX_DEPTH = 6;
/** Caps the path search so a hostile pool (e.g. from KeyInfo) cannot make it explode. */
const MAX_PATHS = 8;
const MAX_STEPS = 500;

/** Critical extensions we understand or may safely treat as informational. Anything else critical
 *  (nameConstraints, policyConstraints, …) would need enforcing, so the certificate is refused. */
const KNOWN_CRITICAL = new Set([
  "2.5.29.19", // basicConstraints
  "2.5.29.15", // keyUsage
  "2.5.29.14", // subjectKeyIdentifier
  "2.5.29.35", // authorityKeyIdentifier
  "2.5.29.17", // subjectAltName
  "2.5.29.18", // issuerAltName
  "2.5.29.32", // certificatePolicies (any policy accepted)
  "2.5.29.37", // extKeyUsage
  "2.5.29.31", // cRLDistributionPoints
]);

/** Extended key usages that allow signing documents (RFC 5280 §4.2.1.12): anyExtendedKeyUsage,
 *  emailProtection (what S/MIME-style signing certificates carry) and documentSigning (RFC 9336). */
const DOCUMENT_SIGNING_PURPOSES = new Set(["2.5.29.37.0", "1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.36"]);

/** id-kp-timeStamping (RFC 3161 §2.3). */
const TIME_STAMPING = "1.3.6.1.5.5.7.3.8";

type Failure = Extract<ChainResult, { ok: false }>;
const failure = (subIndication: SubIndication, message: string, vi: string): Failure => ({ ok: false, subIndication, message, vi });
const bilingual = (en: string, vi: string) => `${en} — ${vi}`;

/** keyUsage bits (RFC 5280 §4.2.1.3), bit 0 digitalSignature first. */
const KU = { digitalSignature: 1, nonRepudiation: 2, keyCertSign: 32, cRLSign: 64 };

function extension(cert: X509Certificate, id: string): Buffer | null {
  return certificateFacts(cert).extensions.find((e) => e.oid === id)?.value ?? null;
}

function keyUsage(cert: X509Certificate): number | null {
  const der = extension(cert, "2.5.29.15");
  if (!der) return null;
  const bits = readTlv(der, 0);
  const unused = der[bits.contentStart] ?? 0;
  let usages = 0;
  for (let i = 0; i < (bits.end - bits.contentStart - 1) * 8 - unused; i++) {
    if (der[bits.contentStart + 1 + (i >> 3)]! & (0x80 >> (i & 7))) usages |= 1 << i;
  }
  return usages;
}

function basicConstraints(cert: X509Certificate): { ca: boolean; pathLength?: number } | null {
  const der = extension(cert, "2.5.29.19");
  if (!der) return null;
  const parts = tlvChildren(der, readTlv(der, 0));
  const ca = parts[0]?.tag === 0x01 && der[parts[0].contentStart] !== 0;
  const length = parts.find((p) => p.tag === 0x02);
  return { ca, pathLength: length ? der.subarray(length.contentStart, length.end).reduce((n, b) => n * 256 + b, 0) : undefined };
}

const EXTENDED_KEY_USAGE = "2.5.29.37";

function extendedKeyUsages(cert: X509Certificate): string[] | null {
  const der = extension(cert, EXTENDED_KEY_USAGE);
  return der ? tlvChildren(der, readTlv(der, 0)).map((p) => oid(der.subarray(p.contentStart, p.end))) : null;
}

/**
 * Successful decisions, by leaf, pool, anchors and CRL set (their fingerprints: a changed trust
 * configuration or CRL is another key), each with the open time interval around the instant it was
 * made in which none of the instants it depends on lies (validity bounds, CRL next updates,
 * revocation dates of the certificates given): inside it the same inputs give the same answer.
 */
const decisions = new Map<string, { result: Extract<ChainResult, { ok: true }>; after: number; before: number }>();
const MAX_DECISIONS = 4096;
const crlKeys = new WeakMap<Crl, string>();
const crlKey = (crl: Crl) => {
  let key = crlKeys.get(crl);
  if (!key) crlKeys.set(crl, (key = crypto.createHash("sha256").update(crl.der).digest("hex")));
  return key;
};

/** The trust decision: builds a path leaf → anchor and checks it (signatures with Node's crypto). */
export function validateChain(opts: ValidateChainOptions): ChainResult {
  const t = opts.at.getTime();
  // the purpose is part of the question: a time-stamping certificate trusted for stamps signs no document
  const key = `${opts.purpose ?? "documents"}|` + [opts.leaf, ...opts.intermediates].map(fingerprint).join(",") + "|" + opts.anchors.map(fingerprint).join(",") + "|" + opts.crls.map(crlKey).join(",") + `|${opts.revokedBy?.getTime() ?? ""}`;
  const known = decisions.get(key);
  if (known && known.after < t && t < known.before) return { ...known.result, warnings: [...known.result.warnings] };
  const result = decide(opts);
  // every certificate that could be on a path counts (a path that fails now may be the one chosen later)
  const pool = [opts.leaf, ...opts.intermediates, ...opts.anchors];
  const serials = new Set(pool.map((c) => normSerial(c.serialNumber)));
  const instants = [
    ...pool.flatMap((c) => [certificateFacts(c).notBefore, certificateFacts(c).notAfter]),
    ...opts.crls.flatMap((crl) => [...(crl.nextUpdate ? [crl.nextUpdate] : []), ...crl.revoked.filter((e) => serials.has(e.serialNumber)).map((e) => e.revocationDate)]),
  ].map((d) => d.getTime());
  if (result.ok && !instants.includes(t)) {
    if (decisions.size >= MAX_DECISIONS) decisions.clear();
    decisions.set(key, {
      result: { ...result, warnings: [...result.warnings] },
      after: Math.max(-Infinity, ...instants.filter((i) => i < t)),
      before: Math.min(Infinity, ...instants.filter((i) => i > t)),
    });
  }
  return result;
}

function decide(opts: ValidateChainOptions): ChainResult {
  const { leaf, at } = opts;
  if (opts.anchors.length === 0) {
    return failure("NO_CERTIFICATE_CHAIN_FOUND", "no trusted root certificates are configured", "chưa cấu hình chứng thư số gốc tin cậy nào");
  }
  const { paths, hint } = buildPaths(leaf, opts.intermediates, opts.anchors);
  if (paths.length === 0) {
    return failure(
      "NO_CERTIFICATE_CHAIN_FOUND",
      `no chain of trust from certificate "${label(leaf)}" to a trusted root certificate` + (hint ? `; ${hint.en}` : ""),
      `không xây dựng được chuỗi chứng thực từ chứng thư số "${label(leaf)}" đến chứng thư số gốc tin cậy` + (hint ? `; ${hint.vi}` : ""),
    );
  }
  // Several paths only exist with re-issued or cross-certified CAs; any fully valid one will do.
  let first: Failure | null = null;
  for (const path of paths) {
    const r = checkPath(path, opts.crls, at, opts.revokedBy ?? at, opts.purpose ?? "documents");
    if (r.ok) return r;
    first ??= r;
  }
  return first!;
}

function buildPaths(
  leaf: X509Certificate,
  intermediates: X509Certificate[],
  anchors: X509Certificate[],
): { paths: X509Certificate[][]; hint: { en: string; vi: string } | null } {
  const anchorFps = new Set(anchors.map(fingerprint));
  // Pinning: a leaf that is itself an anchor is trusted directly.
  if (anchorFps.has(fingerprint(leaf))) return { paths: [[leaf]], hint: null };

  const byFp = new Map<string, X509Certificate>();
  for (const c of [...anchors, ...intermediates]) if (!byFp.has(fingerprint(c))) byFp.set(fingerprint(c), c);
  byFp.delete(fingerprint(leaf));
  const pool = [...byFp.values()]; // anchors first: shortest paths are found first

  let hint: { en: string; vi: string } | null = null;
  const issued = (child: X509Certificate, parent: X509Certificate): boolean => {
    // checkIssued = names + key identifiers + issuer keyUsage; verify = the signature itself.
    const ok = issuedMemo(fingerprint(child) + ">" + fingerprint(parent), () => child.checkIssued(parent) && child.verify(parent.publicKey));
    if (!ok) {
      if (!hint && certificateFacts(child).issuerDer === certificateFacts(parent).subjectDer) {
        hint = {
          en: `certificate "${label(parent)}" has the issuer's name but did not issue "${label(child)}" (other key, or not allowed to sign certificates)`,
          vi: `chứng thư số "${label(parent)}" trùng tên với tổ chức phát hành nhưng không phát hành chứng thư số "${label(child)}"`,
        };
      }
    }
    return ok;
  };

  const paths: X509Certificate[][] = [];
  let steps = 0;
  const walk = (path: X509Certificate[]): void => {
    const cur = path[path.length - 1]!;
    for (const cand of pool) {
      if (paths.length >= MAX_PATHS || ++steps > MAX_STEPS) return;
      if (path.includes(cand) || !issued(cur, cand)) continue;
      if (anchorFps.has(fingerprint(cand))) paths.push([...path, cand]);
      else if (path.length < MAX_DEPTH) walk([...path, cand]);
    }
  };
  walk([leaf]);
  return { paths, hint };
}

/** Checks one candidate path leaf..anchor. Order follows RFC 5280: CA constraints, validity and
 *  revocation of every certificate (§6.1.3-6.1.4), then the end-entity usage checks (§6.1.5). */
function checkPath(path: X509Certificate[], crls: Crl[], at: Date, revokedBy: Date, purpose: "documents" | "timestamping"): ChainResult {
  const warnings: string[] = [];
  const leaf = path[0]!;

  for (let i = 0; i < path.length; i++) {
    const cert = path[i]!;
    for (const ext of certificateFacts(cert).extensions) {
      if (ext.critical && !KNOWN_CRITICAL.has(ext.oid)) {
        return failure(
          "NO_CERTIFICATE_CHAIN_FOUND",
          `certificate "${label(cert)}" has an unsupported critical extension ${ext.oid}`,
          `chứng thư số "${label(cert)}" có phần mở rộng bắt buộc (critical) không được hỗ trợ: ${ext.oid}`,
        );
      }
    }
    if (i === 0) continue;
    // Issuers must be CAs: a missing basicConstraints extension means "not a CA".
    const child = path[i - 1]!;
    const bc = basicConstraints(cert);
    if (!bc || !bc.ca) {
      return failure(
        "NO_CERTIFICATE_CHAIN_FOUND",
        `certificate "${label(cert)}" is not a CA certificate (${bc ? "basicConstraints cA is false" : "no basicConstraints extension"}) and cannot issue "${label(child)}"`,
        `chứng thư số "${label(cert)}" không phải là chứng thư số của tổ chức chứng thực (CA) nên không được phát hành chứng thư số "${label(child)}"`,
      );
    }
    const ku = keyUsage(cert);
    if (ku !== null && !(ku & KU.keyCertSign)) {
      return failure(
        "NO_CERTIFICATE_CHAIN_FOUND",
        `certificate "${label(cert)}" is not a CA: its key usage does not allow signing certificates`,
        `chứng thư số "${label(cert)}" không phải là CA: mục đích sử dụng khóa không cho phép ký chứng thư số`,
      );
    }
    // pathLenConstraint counts the intermediate CA certificates below this one (leaf excluded).
    const below = i - 1;
    if (bc.pathLength !== undefined && below > bc.pathLength) {
      return failure(
        "NO_CERTIFICATE_CHAIN_FOUND",
        `certificate "${label(cert)}" allows at most ${bc.pathLength} intermediate CA certificate(s) below it, the chain has ${below}`,
        `chứng thư số "${label(cert)}" chỉ cho phép tối đa ${bc.pathLength} chứng thư số CA trung gian phía dưới, chuỗi có ${below}`,
      );
    }
  }

  for (const cert of path) {
    const p = certificateFacts(cert);
    const range = `${stamp(p.notBefore)} – ${stamp(p.notAfter)}`;
    if (at < p.notBefore) {
      return failure(
        "NOT_YET_VALID",
        `certificate "${label(cert)}" is not yet valid: valid from ${day(p.notBefore)} (${range})`,
        `chứng thư số "${label(cert)}" chưa có hiệu lực: hiệu lực từ ngày ${day(p.notBefore)} (${range})`,
      );
    }
    if (at > p.notAfter) {
      return failure(
        "EXPIRED",
        `certificate "${label(cert)}" expired on ${day(p.notAfter)} (valid ${range})`,
        `chứng thư số "${label(cert)}" đã hết hạn ngày ${day(p.notAfter)} (hiệu lực ${range})`,
      );
    }
  }

  const revoked = checkRevocation(path, crls, revokedBy, warnings);
  if (revoked) return revoked;

  // End entity: the key must be meant for signatures; a CA key signs documents only when pinned.
  const ku = keyUsage(leaf);
  if (ku !== null && !(ku & (KU.digitalSignature | KU.nonRepudiation))) {
    return failure(
      "NO_CERTIFICATE_CHAIN_FOUND",
      `certificate key usage does not allow signing (certificate "${label(leaf)}")`,
      `mục đích sử dụng khóa của chứng thư số "${label(leaf)}" không cho phép ký số`,
    );
  }
  // Present, critical or not, the extension limits the key to its purposes.
  const eku = extendedKeyUsages(leaf);
  if (purpose === "timestamping") {
    const critical = certificateFacts(leaf).extensions.find((e) => e.oid === EXTENDED_KEY_USAGE)?.critical === true;
    if (!critical || eku?.length !== 1 || eku[0] !== TIME_STAMPING) {
      const listed = eku ? `${critical ? "critical" : "not critical"}: ${eku.join(", ") || "none"}` : "none";
      return failure(
        "CHAIN_CONSTRAINTS_FAILURE",
        `certificate "${label(leaf)}" may not sign time-stamps: its extended key usage must be id-kp-timeStamping alone, critical (it has ${listed})`,
        `chứng thư số "${label(leaf)}" không được dùng để cấp dấu thời gian: mục đích sử dụng mở rộng phải là id-kp-timeStamping, bắt buộc (critical)`,
      );
    }
  } else if (eku && !eku.some((p) => DOCUMENT_SIGNING_PURPOSES.has(p))) {
    const listed = eku.join(", ") || "none";
    return failure(
      "CHAIN_CONSTRAINTS_FAILURE",
      `certificate extended key usage does not allow signing documents (certificate "${label(leaf)}" allows only ${listed})`,
      `mục đích sử dụng mở rộng của chứng thư số "${label(leaf)}" không cho phép ký văn bản (chỉ cho phép ${listed})`,
    );
  }
  if (path.length > 1 && basicConstraints(leaf)?.ca) {
    return failure(
      "NO_CERTIFICATE_CHAIN_FOUND",
      `certificate "${label(leaf)}" is a CA certificate and may not sign documents (unless it is configured as a trusted certificate itself)`,
      `chứng thư số "${label(leaf)}" là chứng thư số CA, không được dùng để ký văn bản (trừ khi được cấu hình là chứng thư số tin cậy)`,
    );
  }
  return { ok: true, path, warnings };
}

function checkRevocation(path: X509Certificate[], crls: Crl[], at: Date, warnings: string[]): Failure | null {
  const warned = new Set<Crl>();
  for (let i = 0; i < path.length - 1; i++) {
    const cert = path[i]!;
    const issuer = path[i + 1]!;
    // CRLs are read by @peculiar/x509, so their issuer names are compared as it decodes them
    const issuerName = crls.length ? nameKey(parsed(cert).issuerName) : "";
    const candidates = crls.filter((c) => nameKey(c.parsed.issuerName) === issuerName);
    let covered = false;
    const ku = keyUsage(issuer);
    const mayIssueCrls = ku === null || (ku & KU.cRLSign) !== 0;
    for (const crl of candidates) {
      const sigOk = crlSignatureOk(crl, issuer.publicKey);
      if (!sigOk || !mayIssueCrls) {
        if (!warned.has(crl)) {
          warned.add(crl);
          warnings.push(
            sigOk
              ? bilingual(
                  `revocation list issued by "${crl.issuer}" was ignored: the key usage of "${label(issuer)}" does not allow signing revocation lists`,
                  `danh sách chứng thư số bị thu hồi do "${crl.issuer}" phát hành bị bỏ qua: chứng thư số "${label(issuer)}" không được phép ký danh sách thu hồi`,
                )
              : bilingual(
                  `revocation list issued by "${crl.issuer}" was ignored: its signature does not verify with the issuing certificate "${label(issuer)}"`,
                  `danh sách chứng thư số bị thu hồi do "${crl.issuer}" phát hành bị bỏ qua: chữ ký không khớp với chứng thư số "${label(issuer)}"`,
                ),
          );
        }
        continue;
      }
      covered = true;
      if (crl.nextUpdate && crl.nextUpdate < at && !warned.has(crl)) {
        warned.add(crl);
        warnings.push(
          bilingual(
            `revocation list is out of date: the list issued by "${label(issuer)}" should have been renewed on ${stamp(crl.nextUpdate)}`,
            `danh sách chứng thư số bị thu hồi do "${label(issuer)}" phát hành đã quá hạn cập nhật (hạn ${stamp(crl.nextUpdate)})`,
          ),
        );
      }
      const serial = normSerial(cert.serialNumber);
      const entry = crl.revoked.find((e) => e.serialNumber === serial);
      if (!entry) continue;
      if (entry.revocationDate <= at) {
        return failure(
          "REVOKED",
          `certificate "${label(cert)}" was revoked on ${day(entry.revocationDate)} (${stamp(entry.revocationDate)})`,
          `chứng thư số "${label(cert)}" đã bị thu hồi ngày ${day(entry.revocationDate)} (${stamp(entry.revocationDate)})`,
        );
      }
      warnings.push(
        bilingual(
          `certificate "${label(cert)}" was revoked later, on ${stamp(entry.revocationDate)}`,
          `chứng thư số "${label(cert)}" bị thu hồi sau thời điểm kiểm tra, ngày ${stamp(entry.revocationDate)}`,
        ),
      );
    }
    if (!covered && crls.length > 0) {
      warnings.push(
        bilingual(
          `no revocation list found for certificate "${label(cert)}"`,
          `không có danh sách chứng thư số bị thu hồi cho chứng thư số "${label(cert)}"`,
        ),
      );
    }
  }
  return null;
}
