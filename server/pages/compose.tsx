// Soạn văn bản: the compose form (the UI contract's labels: Nơi nhận, Số, Ký hiệu, Loại văn bản,
// Trích yếu, Nội dung, Tệp đính kèm, Gửi). The use case's problems are named by edXML paths; each
// is shown beside the field of its path, in the page's language, the path replaced by the field's
// label. compose.js sends the form with an upload progress bar and keeps it from being sent twice
// at once; the form's key keeps a second send (a reload, a retry) from sending another document.
import type { ComponentChildren } from "preact";
import { translate, type RecipientGroup } from "../../app/index.ts";
import { Layout, type Frame } from "./layout.tsx";
import { count, type Dictionary } from "./i18n.ts";

export const COMPOSE_FIELDS = ["to", "number", "notation", "kind", "subject", "content", "signerName", "signerPosition", "signerCompetence", "dueDate", "priority", "files"] as const;
export type ComposeField = (typeof COMPOSE_FIELDS)[number];
export type ComposeValues = Partial<Record<Exclude<ComposeField, "files" | "to">, string>> & { to?: string[] };

/** The field an edXML path belongs to (the first match wins). */
const PATHS: Array<[RegExp, ComposeField]> = [
  [/^To(\[\d+\])?/, "to"],
  [/^Code\/CodeNotation/, "notation"],
  [/^(Code\/CodeNumber|Code|DocumentId)/, "number"],
  [/^DocumentType(\/\w+)?/, "kind"],
  [/^Subject/, "subject"],
  [/^Content/, "content"],
  [/^SignerInfo\/Competence/, "signerCompetence"],
  [/^SignerInfo\/Position/, "signerPosition"],
  [/^SignerInfo(\/FullName)?/, "signerName"],
  [/^DueDate/, "dueDate"],
  [/^OtherInfo\/Priority/, "priority"],
  [/^Attachments/, "files"],
];

const label = (t: Dictionary, f: ComposeField): string =>
  ({
    to: t.compose.recipients,
    number: t.compose.number,
    notation: t.compose.notation,
    kind: t.compose.kind,
    subject: t.compose.subject,
    content: t.compose.content,
    signerName: t.compose.signerName,
    signerPosition: t.compose.signerPosition,
    signerCompetence: t.compose.signerCompetence,
    dueDate: t.compose.dueDate,
    priority: t.compose.priority,
    files: t.compose.files,
  })[f];

export interface ComposeProblems {
  fields: Partial<Record<ComposeField, string[]>>;
  /** Problems of no field (shown above the form). */
  general: string[];
}

/** The use case's problems (English, edXML paths) sorted to their fields, in the page's language. */
export function composeProblems(t: Dictionary, problems: string[], field?: ComposeField): ComposeProblems {
  const out: ComposeProblems = { fields: {}, general: [] };
  for (const p of problems) {
    const shown = translate(p, t.lang);
    const match = PATHS.map(([re, f]) => [re.exec(p), f] as const).find(([m]) => m);
    const f = field ?? match?.[1];
    if (!f) {
      out.general.push(shown);
      continue;
    }
    const text = match?.[0] && match[0][0] ? shown.replace(match[0][0], `“${label(t, f)}”`) : shown;
    (out.fields[f] ??= []).push(text);
  }
  return out;
}

function Field(props: { t: Dictionary; id: ComposeField; problems: ComposeProblems; hint?: string; children: (describedBy: string, invalid: boolean) => ComponentChildren }) {
  const { t, id } = props;
  const errors = props.problems.fields[id] ?? [];
  const describedBy = [props.hint ? `${id}-hint` : "", `${id}-error`].filter(Boolean).join(" ");
  return (
    <div class="field">
      <label for={id}>{label(t, id)}</label>
      {props.hint && (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      )}
      {props.children(describedBy, errors.length > 0)}
      <p class="field-error" id={`${id}-error`} data-error-for={id}>
        {errors.join(" ")}
      </p>
    </div>
  );
}

export interface ComposeProps extends Frame {
  groups: RecipientGroup[];
  kinds: ReadonlyArray<{ type: 1 | 2; name: string }>;
  suggestedNumber: string;
  /** The form's key (one per form shown: the same key is the same document). */
  sendKey: string;
  maxUploadBytes: number;
  values?: ComposeValues;
  problems?: ComposeProblems;
}

export function ComposePage(props: ComposeProps) {
  const { t } = props;
  const c = t.compose;
  const v: ComposeValues = props.values ?? { number: props.suggestedNumber, kind: "Công văn", priority: "0" };
  const problems = props.problems ?? { fields: {}, general: [] };
  const chosen = new Set(v.to ?? []);
  const any = problems.general.length > 0 || Object.keys(problems.fields).length > 0;
  const text = (id: Exclude<ComposeField, "to" | "files" | "kind" | "priority">, extra: Record<string, unknown> = {}) => (d: string, invalid: boolean) => (
    <input id={id} name={id} value={v[id] ?? ""} aria-describedby={d} aria-invalid={invalid ? "true" : undefined} {...extra} />
  );
  return (
    <Layout {...props} title={c.title} scripts={["/assets/compose.js"]}>
      <p>{c.intro}</p>
      <div id="compose-problems" class={any ? "alert" : undefined} tabindex={-1} data-problems="">
        {any && (
          <>
            <p>{c.problems}</p>
            {problems.general.length > 0 && (
              <ul>
                {problems.general.map((p) => (
                  <li>{p}</li>
                ))}
              </ul>
            )}
          </>
        )}
      </div>
      <form id="compose" method="post" action="/compose" enctype="multipart/form-data" novalidate class="compose" data-compose="">
        {/* the token first: the upload is read only after it is checked */}
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="key" value={props.sendKey} />
        <div class="field">
          <label for="to">{c.recipients}</label>
          <p class="hint" id="to-hint">
            {c.recipientsHint}
          </p>
          <input type="search" id="find-recipient" class="find" aria-label={c.find} placeholder={c.find} aria-controls="to" hidden data-find="to" />
          <select id="to" name="to" multiple size={8} aria-describedby="to-hint to-error" aria-required="true" aria-invalid={problems.fields.to ? "true" : undefined}>
            {props.groups.map((g) => (
              <optgroup label={g.parent ? `${g.parent.name} (${g.parent.organId})` : c.others}>
                {g.agencies.map((a) => (
                  <option value={a.organId} selected={chosen.has(a.organId)} data-search={`${a.name} ${a.organId}`}>
                    {a.name}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
          <p class="field-error" id="to-error" data-error-for="to">
            {(problems.fields.to ?? []).join(" ")}
          </p>
        </div>
        <div class="row">
          <Field t={t} id="number" problems={problems} hint={c.numberHint(props.suggestedNumber)}>
            {text("number", { inputmode: "numeric", size: 8, "aria-required": "true" })}
          </Field>
          <Field t={t} id="notation" problems={problems} hint={c.notationHint}>
            {text("notation", { size: 16, "aria-required": "true" })}
          </Field>
        </div>
        <Field t={t} id="kind" problems={problems}>
          {(d, invalid) => (
            <select id="kind" name="kind" aria-describedby={d} aria-invalid={invalid ? "true" : undefined}>
              {([1, 2] as const).map((type) => (
                <optgroup label={type === 1 ? c.legal : c.administrative}>
                  {props.kinds
                    .filter((k) => k.type === type)
                    .map((k) => (
                      <option value={k.name} selected={v.kind === k.name}>
                        {k.name}
                      </option>
                    ))}
                </optgroup>
              ))}
            </select>
          )}
        </Field>
        <Field t={t} id="subject" problems={problems}>
          {(d, invalid) => (
            <textarea id="subject" name="subject" rows={2} aria-describedby={d} aria-required="true" aria-invalid={invalid ? "true" : undefined}>
              {v.subject ?? ""}
            </textarea>
          )}
        </Field>
        <Field t={t} id="content" problems={problems} hint={c.contentHint}>
          {(d, invalid) => (
            <textarea id="content" name="content" rows={4} aria-describedby={d} aria-invalid={invalid ? "true" : undefined}>
              {v.content ?? ""}
            </textarea>
          )}
        </Field>
        <fieldset>
          <legend>{c.signer}</legend>
          <div class="row">
            <Field t={t} id="signerName" problems={problems}>
              {text("signerName", { autocomplete: "off" })}
            </Field>
            <Field t={t} id="signerPosition" problems={problems}>
              {text("signerPosition")}
            </Field>
            <Field t={t} id="signerCompetence" problems={problems} hint={c.signerCompetenceHint}>
              {text("signerCompetence", { size: 8 })}
            </Field>
          </div>
        </fieldset>
        <div class="row">
          <Field t={t} id="dueDate" problems={problems}>
            {text("dueDate", { type: "date" })}
          </Field>
          <Field t={t} id="priority" problems={problems}>
            {(d, invalid) => (
              <select id="priority" name="priority" aria-describedby={d} aria-invalid={invalid ? "true" : undefined}>
                {c.priorities.map((name, i) => (
                  <option value={String(i)} selected={(v.priority ?? "0") === String(i)}>
                    {name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <Field t={t} id="files" problems={problems} hint={c.filesHint(`${count(t, props.maxUploadBytes / 1024 / 1024, 1)} MB`)}>
          {(d, invalid) => <input id="files" name="files" type="file" multiple aria-describedby={d} aria-required="true" aria-invalid={invalid ? "true" : undefined} />}
        </Field>
        <div class="upload" hidden data-upload="">
          <label for="upload-progress">{c.progress}</label>
          <progress id="upload-progress" max={100} value={0}></progress>
          <p class="hint" aria-live="polite" data-upload-text="" data-uploading={c.uploading("{percent}")} data-signing={c.signing} data-lost={c.lost}></p>
        </div>
        <button type="submit">{c.submit}</button>
      </form>
    </Layout>
  );
}
