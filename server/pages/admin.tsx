// Quản trị (administration): the node's agencies and their certificates with expiry warnings, the
// registry and its snapshot sync, trust anchors and CRLs, users, API tokens, the delivery queue and
// the audit log. One page per part, under a navigation of their own; every form carries the CSRF
// token; the forms that only node administrators may use are shown to them only (the use cases
// refuse the others all the same).
import type { ComponentChildren } from "preact";
import type { CertificateView, ExpiryLevel, Role, deliveryQueue, listAgencyUsers, listApiTokens, listRegistry, localAgencyList, readAudit, registrySyncStatus, trustState } from "../../app/index.ts";
import { Layout, type Frame } from "./layout.tsx";
import { dateTime, type Dictionary } from "./i18n.ts";
import { deliveryStateName } from "./states.tsx";

type Result<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

/** The parts of Quản trị, in the order of their navigation. */
const ADMIN_PAGES = [
  { key: "agencies", href: "/admin" },
  { key: "registry", href: "/admin/registry" },
  { key: "trust", href: "/admin/trust" },
  { key: "users", href: "/admin/users" },
  { key: "tokens", href: "/admin/tokens" },
  { key: "queue", href: "/admin/queue" },
  { key: "audit", href: "/admin/audit" },
] as const;
type AdminKey = (typeof ADMIN_PAGES)[number]["key"];

/** What an action answered: done (a status) or refused (an alert with the use case's reasons). */
export interface Outcome {
  ok: boolean;
  message: string;
  details?: string[];
}

export type AdminFrame = Frame & { outcome?: Outcome; nodeAdmin: boolean };

function AdminLayout(props: AdminFrame & { part: AdminKey; children: ComponentChildren; scripts?: string[] }) {
  const { t, part, outcome } = props;
  const a = t.admin;
  return (
    // the first part is the page of the navigation's Quản trị (its link in the sub-navigation has another name: one link per name)
    <Layout {...props} title={part === "agencies" ? t.nav.admin : a.pages[part]}>
      <nav aria-label={a.navLabel} class="subnav">
        <ul>
          {ADMIN_PAGES.map((p) => (
            <li>
              <a href={p.href} aria-current={p.key === part ? "page" : undefined}>
                {a.pages[p.key]}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {outcome && (
        <div class={outcome.ok ? "note" : "alert"} role={outcome.ok ? "status" : "alert"}>
          <p>{outcome.message}</p>
          {outcome.details && outcome.details.length > 0 && (
            <ul>
              {outcome.details.map((d) => (
                <li>{d}</li>
              ))}
            </ul>
          )}
        </div>
      )}
      {props.children}
    </Layout>
  );
}

/** A table that scrolls sideways on a narrow screen (a focusable region, so that the keyboard scrolls it too). */
function Table({ label, caption, head, children }: { label: string; caption?: boolean; head: string[]; children: ComponentChildren }) {
  return (
    <div class="scroll" tabindex={0} role="region" aria-label={label}>
      <table>
        {caption && <caption>{label}</caption>}
        <thead>
          <tr>
            {head.map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

const Csrf = ({ value }: { value: string }) => <input type="hidden" name="csrf" value={value} />;

/** Who may use a form that only node administrators may: a note instead of the form for the others. */
function NodeAdminOnly({ t, nodeAdmin, children }: { t: Dictionary; nodeAdmin: boolean; children: ComponentChildren }) {
  return nodeAdmin ? <>{children}</> : <p class="note">{t.admin.nodeAdminOnly}</p>;
}

const LEVEL_CLASS: Record<ExpiryLevel, string> = { expired: "bad", "7": "bad", "30": "warn", ok: "ok" };
/** Days the bar shows in full. */
const BAR_DAYS = 90;

/** The expiry indicator: a bar of the days left (a full bar is 90 days or more) and the words, coloured by how soon. */
function Expiry({ t, cert }: { t: Dictionary; cert: Pick<CertificateView, "daysLeft" | "expiry" | "notAfter"> }) {
  const e = t.admin.expiry;
  const words = cert.expiry === "expired" ? e.expired : cert.expiry === "ok" ? e.ok(cert.daysLeft) : e.soon(cert.daysLeft);
  const width = Math.round((Math.max(0, Math.min(cert.daysLeft, BAR_DAYS)) / BAR_DAYS) * 60);
  return (
    <span class={`expiry ${LEVEL_CLASS[cert.expiry]}`} data-expiry={cert.expiry}>
      <svg width="62" height="12" viewBox="0 0 62 12" aria-hidden="true" focusable="false">
        <rect class="track" x="0.5" y="0.5" width="61" height="11" rx="2" />
        <rect class="fill" x="1" y="1" width={String(width)} height="10" rx="2" />
      </svg>{" "}
      <span>{words}</span> <span class="muted">({dateTime(t, cert.notAfter)})</span>
    </span>
  );
}

function CertificateFacts({ t, cert }: { t: Dictionary; cert: CertificateView }) {
  const a = t.admin;
  return (
    <dl class="facts">
      <dt>{a.subject}</dt>
      <dd>{cert.subject}</dd>
      <dt>{a.issuer}</dt>
      <dd>{cert.issuer}</dd>
      <dt>{a.serial}</dt>
      <dd>{cert.serialNumber}</dd>
      <dt>{a.fingerprint}</dt>
      <dd class="mono">{cert.fingerprint}</dd>
      <dt>{a.validity}</dt>
      <dd>
        {dateTime(t, cert.notBefore)} – <Expiry t={t} cert={cert} />
      </dd>
    </dl>
  );
}

// ---- agencies of this node ----------------------------------------------------------------------

export function AgenciesPage(props: AdminFrame & { agencies: Result<typeof localAgencyList> }) {
  const { t, agencies, nodeAdmin } = props;
  const a = t.admin;
  const soon = agencies.filter((x) => x.certificate.expiry !== "ok");
  return (
    <AdminLayout {...props} part="agencies">
      <p>{a.agencies.intro}</p>
      {soon.length > 0 && (
        <div class="alert" role="alert">
          <p>{a.agencies.warning(soon.length)}</p>
          <ul>
            {soon.map((x) => (
              <li>
                {x.name} ({x.organId}): <Expiry t={t} cert={x.certificate} />
              </li>
            ))}
          </ul>
        </div>
      )}
      {agencies.map((x) => (
        <section class="card" aria-labelledby={`agency-${x.organId}`}>
          <h2 id={`agency-${x.organId}`}>
            {x.name} <span class="muted">({x.organId})</span>
          </h2>
          {x.development && <p class="note">{a.agencies.development}</p>}
          <h3>{a.agencies.certificate}</h3>
          <CertificateFacts t={t} cert={x.certificate} />
          {x.chain.length > 0 && (
            <>
              <h3>{a.agencies.chain}</h3>
              {x.chain.map((c) => (
                <CertificateFacts t={t} cert={c} />
              ))}
            </>
          )}
        </section>
      ))}
      <h2>{a.agencies.add}</h2>
      <NodeAdminOnly t={t} nodeAdmin={nodeAdmin}>
        <form method="post" action="/admin/agencies" enctype="multipart/form-data" class="stack">
          <Csrf value={props.csrf} />
          <label for="agency-organ-id">{a.organId}</label>
          <input id="agency-organ-id" name="organId" required maxlength={35} />
          <label for="agency-name">{a.name}</label>
          <input id="agency-name" name="name" required maxlength={200} />
          <label for="agency-p12">{a.agencies.p12}</label>
          <input id="agency-p12" name="p12" type="file" accept=".p12,.pfx,application/x-pkcs12" aria-describedby="agency-p12-hint" />
          <p class="hint" id="agency-p12-hint">
            {a.agencies.p12Hint}
          </p>
          <label for="agency-p12-password">{a.agencies.p12Password}</label>
          <input id="agency-p12-password" name="password" type="password" autocomplete="off" />
          <button type="submit">{a.agencies.submit}</button>
        </form>
      </NodeAdminOnly>
    </AdminLayout>
  );
}

// ---- the registry ------------------------------------------------------------------------------

type Agency = Result<typeof listRegistry>[number];

function AgencyForm({ t, csrf, agency }: { t: Dictionary; csrf: string; agency?: Agency }) {
  const a = t.admin;
  const r = a.registry;
  const action = agency ? `/admin/registry/${encodeURIComponent(agency.organId)}` : "/admin/registry";
  return (
    <form method="post" action={action} class="stack wide">
      <Csrf value={csrf} />
      <label for="reg-organ-id">{a.organId}</label>
      <input id="reg-organ-id" name="organId" required maxlength={35} value={agency?.organId ?? ""} readonly={!!agency} />
      <label for="reg-name">{a.name}</label>
      <input id="reg-name" name="name" required maxlength={200} value={agency?.name ?? ""} />
      <label for="reg-parent">{r.parent}</label>
      <input id="reg-parent" name="parentId" maxlength={35} value={agency?.parentId ?? ""} />
      <label for="reg-endpoint">{r.endpoint}</label>
      <input id="reg-endpoint" name="endpoint" type="url" required value={agency?.endpoint ?? ""} placeholder="https://edoc.example.gov.vn" />
      <label for="reg-status">{r.status}</label>
      <select id="reg-status" name="status">
        {(["active", "inactive"] as const).map((s) => (
          <option value={s} selected={agency?.status === s}>
            {r.statuses[s]}
          </option>
        ))}
      </select>
      <label for="reg-certs">{r.certificates}</label>
      <textarea id="reg-certs" name="certificates" rows={6} aria-describedby="reg-certs-hint">
        {agency?.certificates.join("") ?? ""}
      </textarea>
      <p class="hint" id="reg-certs-hint">
        {r.certificatesHint}
      </p>
      <label for="reg-fps">{r.fingerprints}</label>
      <textarea id="reg-fps" name="certificateFingerprints" rows={2}>
        {/* an entry with certificates binds their fingerprints anyway; extra ones are shown for an entry without any */}
        {agency && !agency.certificates.length ? agency.certificateFingerprints.join("\n") : ""}
      </textarea>
      <button type="submit">{agency ? r.save : r.submit}</button>
    </form>
  );
}

function SyncState({ t, sync }: { t: Dictionary; sync: Result<typeof registrySyncStatus> }) {
  const s = t.admin.registry.sync;
  if (!sync.url) return <p>{s.none}</p>;
  const failed = sync.lastRun?.error;
  return (
    <dl class="facts">
      <dt>{s.source}</dt>
      <dd class="mono">{sync.url}</dd>
      <dt>{s.applied}</dt>
      <dd>
        {sync.applied ? s.appliedAt(dateTime(t, sync.applied.appliedAt.toISOString()), dateTime(t, sync.applied.issuedAt.toISOString())) : s.never}
      </dd>
      <dt>{s.expires}</dt>
      <dd class={sync.expired ? "bad" : undefined}>{sync.applied ? `${dateTime(t, sync.applied.expiresAt.toISOString())}${sync.expired ? ` — ${s.expired}` : ""}` : s.never}</dd>
      <dt>{s.lastRun}</dt>
      <dd class={failed ? "bad" : undefined}>{sync.lastRun ? `${dateTime(t, sync.lastRun.attemptedAt.toISOString())}: ${failed ? s.failed(failed) : s.ok}` : s.never}</dd>
      <dt>{s.next}</dt>
      <dd>{sync.lastRun?.nextAt ? dateTime(t, sync.lastRun.nextAt.toISOString()) : s.never}</dd>
    </dl>
  );
}

export function RegistryPage(props: AdminFrame & { agencies: Agency[]; sync: Result<typeof registrySyncStatus>; now: Date; certificate: (pem: string) => CertificateView }) {
  const { t, agencies, nodeAdmin } = props;
  const a = t.admin;
  const r = a.registry;
  const remote = agencies.filter((x) => !x.local);
  return (
    <AdminLayout {...props} part="registry">
      <p>{r.intro}</p>
      <h2>{r.sync.title}</h2>
      <SyncState t={t} sync={props.sync} />
      <h2>{r.remote}</h2>
      {remote.length === 0 ? (
        <p>{r.empty}</p>
      ) : (
        <Table label={r.remote} head={[a.name, a.organId, r.endpoint, r.status, r.certificatesColumn, r.source]}>
              {remote.map((x) => (
                <tr>
                  <td>
                    <a href={`/admin/registry/${encodeURIComponent(x.organId)}`}>{x.name}</a>
                  </td>
                  <td class="mono">{x.organId}</td>
                  <td class="mono">{x.endpoint}</td>
                  <td>{r.statuses[x.status]}</td>
                  <td>
                    {x.certificates.length === 0
                      ? r.fingerprintsOnly(x.certificateFingerprints.length)
                      : x.certificates.map((pem) => (
                          <div>
                            <Expiry t={t} cert={props.certificate(pem)} />
                          </div>
                        ))}
                  </td>
                  <td>{x.source === "local" ? r.sourceLocal : r.sourceSync}</td>
                </tr>
              ))}
            </Table>
      )}
      <h2>{r.add}</h2>
      <NodeAdminOnly t={t} nodeAdmin={nodeAdmin}>
        <AgencyForm t={t} csrf={props.csrf} />
      </NodeAdminOnly>
    </AdminLayout>
  );
}

export function RegistryEntryPage(props: AdminFrame & { agency: Agency }) {
  const { t, agency, nodeAdmin } = props;
  const r = t.admin.registry;
  return (
    <AdminLayout {...props} part="registry">
      <h2>
        {agency.name} <span class="muted">({agency.organId})</span>
      </h2>
      {agency.source !== "local" && <p class="note">{r.syncedNote(agency.source)}</p>}
      {agency.local ? (
        <p class="note">{r.localNote}</p>
      ) : (
        <NodeAdminOnly t={t} nodeAdmin={nodeAdmin}>
          <AgencyForm t={t} csrf={props.csrf} agency={agency} />
          <h3>{r.delete}</h3>
          <form method="post" action={`/admin/registry/${encodeURIComponent(agency.organId)}/delete`} class="stack">
            <Csrf value={props.csrf} />
            <p>{r.deleteNote}</p>
            <button type="submit" class="danger">
              {r.delete}
            </button>
          </form>
        </NodeAdminOnly>
      )}
      <p>
        <a href="/admin/registry">{r.back}</a>
      </p>
    </AdminLayout>
  );
}

// ---- trust anchors and CRLs --------------------------------------------------------------------

function UploadForm({ t, csrf, action, id, label, submit }: { t: Dictionary; csrf: string; action: string; id: string; label: string; submit: string }) {
  return (
    <form method="post" action={action} enctype="multipart/form-data" class="stack">
      <Csrf value={csrf} />
      <label for={id}>{label}</label>
      <input id={id} name="file" type="file" required accept=".pem,.crt,.cer,.der,.crl" />
      <p class="hint">{t.admin.trust.pemHint}</p>
      <button type="submit">{submit}</button>
    </form>
  );
}

export function TrustPage(props: AdminFrame & { trust: Result<typeof trustState> }) {
  const { t, trust, nodeAdmin } = props;
  const a = t.admin;
  const tr = a.trust;
  const stale = trust.crls.filter((c) => c.stale);
  return (
    <AdminLayout {...props} part="trust">
      <p>{tr.intro}</p>
      {stale.length > 0 && (
        <div class="alert" role="alert">
          <p>{tr.staleWarning(stale.length)}</p>
          <ul>
            {stale.map((c) => (
              <li>
                {c.issuer}: {tr.nextUpdate} {dateTime(t, c.nextUpdate)}
              </li>
            ))}
          </ul>
        </div>
      )}
      <h2>{tr.anchors}</h2>
      <Table label={tr.anchors} head={[a.subject, tr.kind, a.fingerprint, a.validity]}>
            {trust.anchors.map((c) => (
              <tr>
                <td>{c.subject}</td>
                <td>{c.ca ? tr.ca : tr.pinned}</td>
                <td class="mono small">{c.fingerprint}</td>
                <td>
                  <Expiry t={t} cert={c} />
                </td>
              </tr>
            ))}
          </Table>
      <NodeAdminOnly t={t} nodeAdmin={nodeAdmin}>
        <UploadForm t={t} csrf={props.csrf} action="/admin/trust/anchors" id="anchor-file" label={tr.anchorFile} submit={tr.addAnchor} />
      </NodeAdminOnly>
      <h2>{tr.crls}</h2>
      {trust.crls.length === 0 ? (
        <p>{tr.noCrls}</p>
      ) : (
        <Table label={tr.crls} head={[a.issuer, tr.thisUpdate, tr.nextUpdate, tr.revoked]}>
              {trust.crls.map((c) => (
                <tr class={c.stale ? "bad" : undefined}>
                  <td>{c.issuer}</td>
                  <td>{dateTime(t, c.thisUpdate)}</td>
                  <td>
                    {c.nextUpdate ? dateTime(t, c.nextUpdate) : tr.noNextUpdate}
                    {c.stale && <strong> — {tr.stale}</strong>}
                  </td>
                  <td>{c.revoked}</td>
                </tr>
              ))}
            </Table>
      )}
      <NodeAdminOnly t={t} nodeAdmin={nodeAdmin}>
        <UploadForm t={t} csrf={props.csrf} action="/admin/trust/crls" id="crl-file" label={tr.crlFile} submit={tr.addCrl} />
      </NodeAdminOnly>
    </AdminLayout>
  );
}

// ---- users ---------------------------------------------------------------------------------------

const ROLE_CHOICES: readonly Role[] = ["clerk", "archivist", "admin"];

function RoleSelect({ t, id }: { t: Dictionary; id: string }) {
  return (
    <select id={id} name="role" required>
      {ROLE_CHOICES.map((r) => (
        <option value={r}>{t.roles[r]}</option>
      ))}
    </select>
  );
}

export function UsersPage(props: AdminFrame & { users: Result<typeof listAgencyUsers> }) {
  const { t, users, session } = props;
  const a = t.admin;
  const u = a.users;
  const active = users.filter((x) => !x.disabled);
  return (
    <AdminLayout {...props} part="users">
      <p>{u.intro(session!.caller.organId)}</p>
      <Table label={u.list} caption head={[u.username, u.fullName, u.role, u.state, u.actions]}>
            {users.map((x) => (
              <tr>
                <td class="mono">{x.username}</td>
                <td>{x.fullName}</td>
                <td>{t.roles[x.role]}</td>
                <td>{x.disabled ? u.disabled : u.active}</td>
                <td>
                  {!x.disabled && x.id !== session!.userId && (
                    <form method="post" action="/admin/users/disable" class="inline">
                      <Csrf value={props.csrf} />
                      <input type="hidden" name="username" value={x.username} />
                      <button type="submit" class="secondary" aria-label={u.disableUser(x.username)}>
                        {u.disable}
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </Table>
      <div class="columns">
        <section aria-labelledby="add-user">
          <h2 id="add-user">{u.add}</h2>
          <form method="post" action="/admin/users" class="stack">
            <Csrf value={props.csrf} />
            <label for="user-username">{u.username}</label>
            <input id="user-username" name="username" required maxlength={64} autocomplete="off" />
            <label for="user-full-name">{u.fullName}</label>
            <input id="user-full-name" name="fullName" maxlength={200} autocomplete="off" />
            <label for="user-role">{u.role}</label>
            <RoleSelect t={t} id="user-role" />
            <label for="user-password">{u.password}</label>
            <input id="user-password" name="password" type="password" required minlength={10} maxlength={200} autocomplete="new-password" aria-describedby="user-password-hint" />
            <p class="hint" id="user-password-hint">
              {u.passwordHint}
            </p>
            <button type="submit">{u.submit}</button>
          </form>
        </section>
        <section aria-labelledby="reset-password">
          <h2 id="reset-password">{u.reset}</h2>
          <form method="post" action="/admin/users/password" class="stack">
            <Csrf value={props.csrf} />
            <label for="reset-username">{u.username}</label>
            <select id="reset-username" name="username" required>
              {active.map((x) => (
                <option value={x.username}>{x.username}</option>
              ))}
            </select>
            <label for="reset-password-new">{u.newPassword}</label>
            <input id="reset-password-new" name="password" type="password" required minlength={10} maxlength={200} autocomplete="new-password" />
            <button type="submit">{u.resetSubmit}</button>
          </form>
        </section>
      </div>
    </AdminLayout>
  );
}

// ---- API tokens ----------------------------------------------------------------------------------

export function TokensPage(props: AdminFrame & { tokens: Result<typeof listApiTokens>; created?: { token: string; name: string } }) {
  const { t, tokens, created } = props;
  const k = t.admin.tokens;
  const state = (x: (typeof tokens)[number]) => (x.revokedAt ? k.revoked : x.expiresAt && x.expiresAt < new Date().toISOString() ? k.expired : k.active);
  return (
    <AdminLayout {...props} part="tokens">
      <p>{k.intro}</p>
      {created && (
        <section class="report ok" aria-labelledby="new-token">
          <h2 id="new-token">{k.createdTitle(created.name)}</h2>
          <p>{k.once}</p>
          <label for="new-token-value">{k.value}</label>
          <input id="new-token-value" class="mono token" readonly value={created.token} />
        </section>
      )}
      <Table label={k.list} caption head={[k.id, k.name, t.admin.users.role, k.created, k.expires, k.lastUsed, k.state, t.admin.users.actions]}>
            {tokens.map((x) => (
              <tr>
                <td>{x.id}</td>
                <td>{x.name}</td>
                <td>{t.roles[x.role]}</td>
                <td>{dateTime(t, x.createdAt)}</td>
                <td>{x.expiresAt ? dateTime(t, x.expiresAt) : k.never}</td>
                <td>{x.lastUsedAt ? dateTime(t, x.lastUsedAt) : k.unused}</td>
                <td>{state(x)}</td>
                <td>
                  {!x.revokedAt && (
                    <form method="post" action="/admin/tokens/revoke" class="inline">
                      <Csrf value={props.csrf} />
                      <input type="hidden" name="id" value={String(x.id)} />
                      <button type="submit" class="secondary" aria-label={k.revokeToken(x.id, x.name)}>
                        {k.revoke}
                      </button>
                    </form>
                  )}
                </td>
              </tr>
            ))}
          </Table>
      <h2>{k.add}</h2>
      <form method="post" action="/admin/tokens" class="stack">
        <Csrf value={props.csrf} />
        <label for="token-name">{k.name}</label>
        <input id="token-name" name="name" required maxlength={200} />
        <label for="token-role">{t.admin.users.role}</label>
        <RoleSelect t={t} id="token-role" />
        <label for="token-expires">{k.expiresIn}</label>
        <select id="token-expires" name="expiresIn">
          {(["", "30d", "90d", "365d"] as const).map((d) => (
            <option value={d}>{k.lifetimes[d]}</option>
          ))}
        </select>
        <button type="submit">{k.submit}</button>
      </form>
    </AdminLayout>
  );
}

// ---- the delivery queue --------------------------------------------------------------------------

export function QueuePage(props: AdminFrame & { queue: Result<typeof deliveryQueue>; names: Map<string, string> }) {
  const { t, queue, names } = props;
  const q = t.admin.queue;
  return (
    <AdminLayout {...props} part="queue">
      <p>{q.intro}</p>
      <dl class="facts">
        {(["queued", "sending", "relayed", "delivered", "failed"] as const).map((s) => (
          <>
            <dt>{deliveryStateName(t, s)}</dt>
            <dd>{new Intl.NumberFormat(t.locale).format(queue.depth[s])}</dd>
          </>
        ))}
      </dl>
      <h2>{q.troubled}</h2>
      {queue.rows.length === 0 ? (
        <p>{q.empty}</p>
      ) : (
        <Table label={q.troubled} head={[q.document, q.kind, q.recipient, q.state, q.attempts, q.next, q.error, t.admin.users.actions]}>
              {queue.rows.map((d) => (
                <tr class={d.state === "failed" ? "bad" : undefined}>
                  <td class="mono small">{d.document}</td>
                  <td>{q.kinds[d.kind]}</td>
                  <td>
                    {names.get(d.organId) ?? ""} <span class="mono">({d.organId})</span>
                  </td>
                  <td>{d.state === "failed" ? deliveryStateName(t, "failed") : d.lastError ? q.retrying : q.stuck}</td>
                  <td>{d.attempts}</td>
                  <td>{d.state === "failed" ? "" : dateTime(t, d.nextAttemptAt)}</td>
                  <td class="small">{d.lastError ?? ""}</td>
                  <td>
                    {/* a document's deliveries are sent again by the resend use case (status notices are the clerk's, with the document) */}
                    {d.state === "failed" && d.kind === "edoc" && (
                      <form method="post" action="/admin/queue/resend" class="inline">
                        <Csrf value={props.csrf} />
                        <input type="hidden" name="document" value={d.document} />
                        <input type="hidden" name="organId" value={d.organId} />
                        <button type="submit" aria-label={q.resendTo(d.organId)}>
                          {q.resend}
                        </button>
                      </form>
                    )}
                  </td>
                </tr>
              ))}
            </Table>
      )}
    </AdminLayout>
  );
}

// ---- the audit log -------------------------------------------------------------------------------

export interface AuditFilter {
  actor: string;
  action: string;
  from: string;
  to: string;
}

export function AuditPage(props: AdminFrame & { entries: Result<typeof readAudit>; filter: AuditFilter; actors: Map<string, string>; next: string | null }) {
  const { t, entries, filter, actors } = props;
  const l = t.admin.audit;
  // who: a user or token of the agency by name, another node (its agency) or the command line by kind
  const who = (actor: string) => {
    const at = actor.indexOf(":");
    const kind = actor.slice(0, at);
    const rest = actor.slice(at + 1);
    return actors.get(actor) ?? (kind === "agency" ? l.agency(rest) : kind === "cli" ? l.cli(rest) : actor);
  };
  const what = (action: string) => l.actions[action] ?? l.actions[action.split(".")[0]] ?? action;
  return (
    <AdminLayout {...props} part="audit">
      <p>{l.intro}</p>
      <form method="get" action="/admin/audit" class="filters">
        <div>
          <label for="audit-actor">{l.actor}</label>
          <select id="audit-actor" name="actor">
            <option value="">{l.anyone}</option>
            {[...actors].map(([value, label]) => (
              <option value={value} selected={filter.actor === value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="audit-action">{l.action}</label>
          <input id="audit-action" name="action" value={filter.action} list="audit-actions" maxlength={64} />
          <datalist id="audit-actions">
            {Object.keys(l.actions).map((k) => (
              <option value={k}>{l.actions[k]}</option>
            ))}
          </datalist>
        </div>
        <div>
          <label for="audit-from">{l.from}</label>
          <input id="audit-from" name="from" type="date" value={filter.from} />
        </div>
        <div>
          <label for="audit-to">{l.to}</label>
          <input id="audit-to" name="to" type="date" value={filter.to} />
        </div>
        <button type="submit">{l.filter}</button>
      </form>
      {entries.length === 0 ? (
        <p>{l.empty}</p>
      ) : (
        <Table label={l.entries} head={[l.at, l.actor, l.action, l.detail]}>
              {entries.map((e) => (
                <tr>
                  <td>{dateTime(t, e.at)}</td>
                  <td>{who(e.actor)}</td>
                  <td>
                    {what(e.action)} <span class="mono small">({e.action})</span>
                  </td>
                  <td class="mono small">
                    {e.document ? `${e.document} ` : ""}
                    {JSON.stringify(e.detail)}
                  </td>
                </tr>
              ))}
            </Table>
      )}
      {props.next && (
        <p>
          <a href={props.next}>{l.older}</a>
        </p>
      )}
    </AdminLayout>
  );
}
