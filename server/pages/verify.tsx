// Kiểm tra chữ ký: upload a packet or an evidence bundle (chosen or dropped), and the report in
// plain words: Hợp lệ / Không hợp lệ with the reason, the signer, the signing time and what the
// signature covers. With htmx the form swaps only the result; without it the whole page comes back.
import type { VerificationReport } from "../../app/index.ts";
import type { z } from "zod";
import { Layout, type Frame } from "./layout.tsx";
import { bilingual, dateTime, type Dictionary } from "./i18n.ts";

type Report = z.infer<typeof VerificationReport>;

/** A reference's words ("attachment 2: QĐ 45.pdf", "business block (revoke)") in the page's language. */
function part(t: Dictionary, covers: string): string {
  const attachment = /^attachment (\d+)(?:: (.*))?$/.exec(covers);
  if (attachment) return t.verify.attachment(attachment[1], attachment[2] ?? "");
  const [, base, detail] = /^(.*?)(?: \((.*)\))?$/.exec(covers)!;
  const known = t.verify.part[base];
  if (!known) return covers;
  // a known part's English detail is either a kind of business block or already said by `known`
  const kind = detail && t.verify.business[detail];
  return kind ? `${known}: ${kind}` : known;
}

const commonName = (dn: string) => /(?:^|,\s*)CN=([^,]+)/.exec(dn)?.[1] ?? dn;

/**
 * The level the verifier reached (B-B / B-T) and the signature time-stamp it checked: its time and
 * TSA with what that proves, or why it does not count. No time-stamp line without a stamp.
 */
function SignatureLevel({ t, report }: { t: Dictionary; report: Report }) {
  const v = t.verify;
  const ts = report.timestamp;
  return (
    <>
      <dt>{v.level}</dt>
      <dd class="level">{v.levels[report.level]}</dd>
      {ts && (
        <>
          <dt>{v.timestamp}</dt>
          {ts.valid ? (
            <dd class="timestamp">
              {v.timestampBy(dateTime(t, ts.time!), commonName(ts.tsa!))}
              <br />
              {v.timestampProof}
            </dd>
          ) : (
            <dd class="timestamp bad">
              {v.timestampBad(ts.reason ? v.timestampReasons[ts.reason] : v.none)}
              {ts.time && ts.tsa && (
                <>
                  <br />
                  {v.timestampBy(dateTime(t, ts.time), commonName(ts.tsa))}
                </>
              )}
            </dd>
          )}
        </>
      )}
    </>
  );
}

export function ReportView({ t, report }: { t: Dictionary; report: Report }) {
  const v = t.verify;
  const reasons = report.errors.map((e) => bilingual(t, e));
  return (
    <section class={`report ${report.valid ? "ok" : "bad"}`} aria-labelledby="result-title">
      <h2 id="result-title">{v.result}</h2>
      <p class="verdict">
        <strong>{report.valid ? v.valid : report.subIndication === "NO_SIGNATURE" ? v.unsigned : v.invalid}</strong>
      </p>
      {!report.valid && (
        <div>
          <h3>{v.reason}</h3>
          <p class="reason">{report.subIndication ? v.reasons[report.subIndication] : reasons[0]}</p>
          {reasons.length > 0 && (
            <ul class="details" aria-label={v.details}>
              {reasons.map((r) => (
                <li>{r}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      <dl class="facts">
        {report.packetKind && (
          <>
            <dt>{v.packetKind}</dt>
            <dd>{v.kind[report.packetKind]}</dd>
          </>
        )}
        {report.documentId && (
          <>
            <dt>{v.documentId}</dt>
            <dd>{report.documentId}</dd>
          </>
        )}
        <dt>{v.signer}</dt>
        <dd>{report.signer ? commonName(report.signer.subject) : v.none}</dd>
        {report.signer && (
          <>
            <dt>{v.signerAgency}</dt>
            <dd>{report.signer.organId ?? v.none}</dd>
            <dt>{v.certificate}</dt>
            <dd>
              {v.issuer}: {commonName(report.signer.issuer)}; {v.serial}: {report.signer.serialNumber}; {v.validity}: {dateTime(t, report.signer.notBefore)} – {dateTime(t, report.signer.notAfter)}
            </dd>
          </>
        )}
        <dt>{v.signingTime}</dt>
        <dd>{report.signingTime ? dateTime(t, report.signingTime) : v.none}</dd>
        {report.signer && <SignatureLevel t={t} report={report} />}
        <dt>{v.checkedAt}</dt>
        <dd>{dateTime(t, report.validationTime)}</dd>
      </dl>
      <h3>{v.covers}</h3>
      {report.references.length ? (
        <ul class="covers">
          {report.references.map((r) => (
            <li class={r.digestOk === false ? "bad" : undefined}>
              {part(t, r.covers)}: {r.digestOk === null ? v.digestUnchecked : r.digestOk ? v.digestOk : v.digestBad}
            </li>
          ))}
        </ul>
      ) : (
        <p>{v.none}</p>
      )}
      {report.warnings.length > 0 && (
        <>
          <h3>{v.warnings}</h3>
          <ul>
            {report.warnings.map((w) => (
              <li>{bilingual(t, w)}</li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

type PdfSignature = NonNullable<Report["attachments"]>[number]["pdfSignatures"]["signatures"][number];

function PdfSignatureView({ t, s, title }: { t: Dictionary; s: PdfSignature; title: string }) {
  const v = t.verify;
  const p = v.pdf;
  const reasons = v.reasons as Record<string, string>;
  const changed = s.changesAfterSigning.filter((c) => !c.permitted);
  return (
    <li class={s.valid && !s.modifiedAfterSigning ? "ok" : "bad"}>
      <strong>
        {title}: {s.valid ? v.valid : v.invalid}
      </strong>
      {!s.valid && s.subIndication && <p class="reason">{reasons[s.subIndication] ?? p.reasons[s.subIndication] ?? s.subIndication}</p>}
      <dl class="facts">
        <dt>{p.field}</dt>
        <dd>{s.field}</dd>
        <dt>{v.signer}</dt>
        <dd>{s.signer ? commonName(s.signer.subject) : v.none}</dd>
        <dt>{v.signingTime}</dt>
        <dd>{s.signingTime ? dateTime(t, s.signingTime) : v.none}</dd>
        {s.timestamp && (
          <>
            <dt>{p.timestamp}</dt>
            <dd>
              {s.timestamp.time ? dateTime(t, s.timestamp.time) : v.none} ({s.timestamp.valid ? p.timestampValid : p.timestampInvalid})
            </dd>
          </>
        )}
      </dl>
      <p>{s.coversWholeDocument ? p.coversAll : p.coversPart}</p>
      {changed.length > 0 && (
        <>
          <p>{p.changed}</p>
          <ul>
            {changed.map((c) => (
              <li>{t.lang === "vi" ? c.vi : c.en}</li>
            ))}
          </ul>
        </>
      )}
      {s.errors.length > 0 && (
        <ul class="details" aria-label={v.details}>
          {s.errors.map((e) => (
            <li>{bilingual(t, e)}</li>
          ))}
        </ul>
      )}
    </li>
  );
}

/** The PDF attachments' own signatures: separate facts, after the packet's report. */
function PdfAttachments({ t, report }: { t: Dictionary; report: Report }) {
  const p = t.verify.pdf;
  if (!report.attachments?.length) return null;
  return (
    <section class="pdf-signatures" aria-labelledby="pdf-title">
      <h2 id="pdf-title">{p.heading}</h2>
      <p>{p.note}</p>
      {report.attachments.map((a) => (
        <div>
          <h3>{t.verify.attachment(String(a.n), a.name)}</h3>
          <p class="verdict">{a.pdfSignatures.signatures.length === 0 ? p.noSignature : a.pdfSignatures.valid ? p.allValid : p.notValid}</p>
          {a.pdfSignatures.errors
            .filter((e) => !e.startsWith("the PDF has no signature"))
            .map((e) => (
              <p>{bilingual(t, e)}</p>
            ))}
          <ul class="stack">
            {a.pdfSignatures.signatures.map((s, i) => (
              <PdfSignatureView t={t} s={s} title={p.signature(i + 1)} />
            ))}
            {a.pdfSignatures.documentTimestamps.map((s, i) => (
              <PdfSignatureView t={t} s={s} title={p.documentTimestamp(i + 1)} />
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}

/** The result region: a report, a message, or nothing yet. */
export function VerifyResult({ t, report, message }: { t: Dictionary; report?: Report; message?: string }) {
  return (
    <div id="result" aria-live="polite">
      {message && (
        <p class="alert" role="alert">
          {message}
        </p>
      )}
      {report && <ReportView t={t} report={report} />}
      {report && <PdfAttachments t={t} report={report} />}
    </div>
  );
}

export function VerifyPage(props: Frame & { report?: Report; message?: string }) {
  const { t } = props;
  return (
    <Layout {...props} title={t.verify.title} scripts={["/assets/drop.js"]}>
      <p>{t.verify.intro}</p>
      <form method="post" action="/verify" enctype="multipart/form-data" hx-post="/verify" hx-target="#result" hx-swap="outerHTML" class="stack">
        <input type="hidden" name="csrf" value={props.csrf} />
        <div class="drop" data-drop="">
          <label for="file">{t.verify.file}</label>
          <input id="file" name="file" type="file" required accept=".edxml,.xml,.zip,application/xml,application/zip" />
          <p class="hint" aria-hidden="true">
            {t.verify.drop}
          </p>
        </div>
        <button type="submit">{t.verify.submit}</button>
      </form>
      <VerifyResult t={t} report={props.report} message={props.message} />
    </Layout>
  );
}
