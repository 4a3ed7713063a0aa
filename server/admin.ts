// The routes of Quản trị (server/pages/admin.tsx), for admins only. Each calls the use case the API
// and the CLI call; a refusal of the use case (a bad field, a role, a conflict) comes back on the
// same page beside the form, in the page's language, with nothing changed. A change answers with
// a redirect to the page and a notice (so a reload does not repeat it), except a new API token,
// which is shown once on the answer itself.
import { X509Certificate } from "node:crypto";
import type { Request, RequestHandler, Response, Router } from "express";
import multer from "multer";
import type { FunctionComponent } from "preact";
import {
  AppError,
  certificateView,
  changePassword,
  createApiToken,
  createUser,
  csrfTokenMatches,
  deleteAgency,
  deliveryQueue,
  disableUser,
  hostAgency,
  isNodeAdmin,
  listAgencyUsers,
  listApiTokens,
  listRegistry,
  localAgencyList,
  readAudit,
  registryEntry,
  registrySyncStatus,
  resendDocument,
  revokeApiToken,
  saveAgency,
  translate,
  trustState,
  addCrlFile,
  addTrustAnchorFile,
  type AppContext,
  type Session,
} from "../app/index.ts";
import { httpError } from "./errors.ts";
import { AgenciesPage, AuditPage, QueuePage, RegistryEntryPage, RegistryPage, TokensPage, TrustPage, UsersPage, type AdminFrame, type AuditFilter, type Outcome } from "./pages/admin.tsx";
import type { Dictionary } from "./pages/i18n.ts";
import type { Frame } from "./pages/layout.tsx";

/** Every path of Quản trị, for the pages' session and CSRF handling. */
export const ADMIN_PATHS = "/admin{/*rest}";

/** What the admin routes take from server/web.ts. */
export interface PageKit {
  web(res: Response): { t: Dictionary; session: Session | null; secret: string };
  frame(req: Request, res: Response): Frame;
  page<P>(res: Response, status: number, component: FunctionComponent<P>, props: P): void;
  signedIn: RequestHandler;
  /** The error page, for a refusal that is not about a form. */
  refuse(req: Request, res: Response, status: number, message: string): void;
}

/** Notices after a change, by the `done` query parameter: the page's words with the value given. */
type Done = (t: Dictionary, value: string) => string;
const DONE: Record<string, Done> = {
  "agency.add": (t, v) => t.admin.agencies.added(v),
  "registry.create": (t, v) => t.admin.registry.created(v),
  "registry.update": (t, v) => t.admin.registry.saved(v),
  "registry.delete": (t, v) => t.admin.registry.deleted(v),
  "trust.add": (t, v) => t.admin.trust.anchorsAdded(Number(v) || 1),
  "crl.add": (t) => t.admin.trust.crlAdded,
  "user.add": (t, v) => t.admin.users.added(v),
  "user.disable": (t, v) => t.admin.users.disabledDone(v),
  "user.password": (t, v) => t.admin.users.passwordDone(v),
  "token.revoke": (t, v) => t.admin.tokens.revokedDone(Number(v)),
  resend: (t, v) => t.admin.queue.resent(v),
};

const text = (v: unknown) => (typeof v === "string" ? v : "");
const optional = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);

export function adminRoutes(router: Router, ctx: AppContext, kit: PageKit): void {
  const caller = (res: Response) => kit.web(res).session!.caller;

  const adminOnly: RequestHandler = (req, res, next) => {
    if (kit.web(res).session!.role === "admin") return next();
    kit.refuse(req, res, 403, kit.web(res).t.admin.forbidden);
  };
  const guard = [kit.signedIn, adminOnly];

  async function frameFor(req: Request, res: Response, outcome?: Outcome): Promise<AdminFrame> {
    const { t } = kit.web(res);
    const key = text(req.query.done);
    const done = Object.hasOwn(DONE, key) ? DONE[key] : undefined;
    // the notice names what was changed (an organ id, a user name, a number): nothing else is shown from a link
    const value = text(req.query.value);
    const notice = outcome ?? (done && /^[\p{L}\p{N}._-]{0,64}$/u.test(value) ? { ok: true, message: done(t, value) } : undefined);
    return { ...kit.frame(req, res), outcome: notice, nodeAdmin: await isNodeAdmin(ctx, caller(res)) };
  }

  /** A use case's refusal as the outcome shown on the page (its reasons translated), or undefined for an error of the node. */
  function refusal(res: Response, err: unknown): { status: number; outcome: Outcome } | undefined {
    if (!(err instanceof AppError) && !(err instanceof multer.MulterError)) return undefined;
    const { status, message, details } = httpError(err);
    if (status >= 500) return undefined;
    const lang = kit.web(res).t.lang;
    const list = Array.isArray(details) ? details.filter((d): d is string => typeof d === "string").map((d) => translate(d, lang)) : undefined;
    return { status, outcome: { ok: false, message: translate(message, lang), details: list } };
  }

  /** GET: the page. */
  const view =
    (render: (req: Request, res: Response, status: number, outcome?: Outcome) => Promise<void>): RequestHandler =>
    async (req, res, next) => {
      try {
        await render(req, res, 200);
      } catch (err) {
        next(err);
      }
    };

  /**
   * POST: the change, then a redirect to `back` with the notice; a refusal shows `render`'s page
   * with the reasons and the refusal's status.
   */
  const change =
    (render: (req: Request, res: Response, status: number, outcome?: Outcome) => Promise<void>, act: (req: Request, res: Response) => Promise<{ back: string; done: string; value: string } | void>): RequestHandler =>
    async (req, res, next) => {
      try {
        const r = await act(req, res);
        if (r) res.redirect(303, `${r.back}?done=${encodeURIComponent(r.done)}&value=${encodeURIComponent(r.value)}`);
      } catch (err) {
        const refused = refusal(res, err);
        if (!refused) return next(err);
        try {
          await render(req, res, refused.status, refused.outcome);
        } catch (e) {
          next(e);
        }
      }
    };

  // uploads (a PKCS#12 identity, a certificate, a CRL): small, held in memory, the form's token
  // checked before the file is read (it is the form's first field) and once more after
  const upload = (field: string) =>
    multer({
      storage: multer.memoryStorage(),
      limits: { fileSize: 1 << 20, files: 1, fields: 4, fieldSize: 1024, parts: 6 },
      fileFilter: (req, _file, done) => {
        if (csrfTokenMatches(kit.web(req.res!).secret, req.body?.csrf)) done(null, true);
        else done(new AppError("forbidden", "the form's CSRF token is missing or wrong"));
      },
    }).single(field);
  const multipart =
    (field: string): RequestHandler =>
    (req, res, next) =>
      upload(field)(req, res, (err?: unknown) => {
        if (err) return next(err);
        if (!csrfTokenMatches(kit.web(res).secret, req.body?.csrf)) return next(new AppError("forbidden", "the form's CSRF token is missing or wrong"));
        next();
      });

  // the pages' check of the form token leaves multipart forms to their routes (the token is read
  // with the file): a multipart body anywhere else would go unchecked, so it is refused
  const MULTIPART = new Set(["/admin/agencies", "/admin/trust/anchors", "/admin/trust/crls"]);
  router.post(ADMIN_PATHS, (req, _res, next) => {
    if (req.is("multipart/form-data") && !MULTIPART.has(req.path)) return next(new AppError("forbidden", "the form's CSRF token is missing or wrong"));
    next();
  });

  // ---- agencies of this node ----
  const agencies = async (req: Request, res: Response, status: number, outcome?: Outcome) =>
    kit.page(res, status, AgenciesPage, { ...(await frameFor(req, res, outcome)), agencies: await localAgencyList(ctx, caller(res)) });
  router.get("/admin", ...guard, view(agencies));
  router.post(
    "/admin/agencies",
    ...guard,
    multipart("p12"),
    change(agencies, async (req, res) => {
      const p12 = req.file?.size ? req.file.buffer : undefined;
      const added = await hostAgency(ctx, caller(res), { organId: optional(req.body.organId), name: optional(req.body.name), p12, password: text(req.body.password) });
      return { back: "/admin", done: "agency.add", value: added.organId };
    }),
  );

  // ---- the registry ----
  const registry = async (req: Request, res: Response, status: number, outcome?: Outcome) => {
    const now = ctx.now();
    const [list, sync] = await Promise.all([listRegistry(ctx), registrySyncStatus(ctx, caller(res))]);
    kit.page(res, status, RegistryPage, { ...(await frameFor(req, res, outcome)), agencies: list, sync, now, certificate: (pem) => certificateView(new X509Certificate(pem), now) });
  };
  const entry = async (req: Request, res: Response, status: number, outcome?: Outcome) =>
    kit.page(res, status, RegistryEntryPage, { ...(await frameFor(req, res, outcome)), agency: await registryEntry(ctx, String(req.params.organId)) });
  /** The form's fields as the registry's input (the same as the API's JSON). */
  const agencyInput = (b: Record<string, unknown>) => ({
    organId: optional(b.organId),
    name: optional(b.name),
    parentId: optional(b.parentId) ?? null,
    endpoint: optional(b.endpoint),
    status: optional(b.status),
    certificates: optional(b.certificates) ? [text(b.certificates)] : [],
    certificateFingerprints: text(b.certificateFingerprints)
      .split(/\s+/)
      .filter((f) => f),
  });
  router.get("/admin/registry", ...guard, view(registry));
  router.post(
    "/admin/registry",
    ...guard,
    change(registry, async (req, res) => {
      const saved = await saveAgency(ctx, caller(res), agencyInput(req.body), { mode: "create" });
      return { back: "/admin/registry", done: "registry.create", value: saved.agency.organId };
    }),
  );
  router.get("/admin/registry/:organId", ...guard, view(entry));
  router.post(
    "/admin/registry/:organId",
    ...guard,
    change(entry, async (req, res) => {
      const saved = await saveAgency(ctx, caller(res), agencyInput(req.body), { mode: "replace", organId: String(req.params.organId) });
      return { back: "/admin/registry", done: saved.created ? "registry.create" : "registry.update", value: saved.agency.organId };
    }),
  );
  router.post(
    "/admin/registry/:organId/delete",
    ...guard,
    change(entry, async (req, res) => {
      const organId = String(req.params.organId);
      await deleteAgency(ctx, caller(res), organId);
      return { back: "/admin/registry", done: "registry.delete", value: organId };
    }),
  );

  // ---- trust anchors and CRLs ----
  const trust = async (req: Request, res: Response, status: number, outcome?: Outcome) =>
    kit.page(res, status, TrustPage, { ...(await frameFor(req, res, outcome)), trust: await trustState(ctx, caller(res)) });
  router.get("/admin/trust", ...guard, view(trust));
  const fileOf = (req: Request, res: Response): Buffer => {
    if (!req.file?.size) throw new AppError("invalid", kit.web(res).t.admin.trust.missing);
    return req.file.buffer;
  };
  router.post(
    "/admin/trust/anchors",
    ...guard,
    multipart("file"),
    change(trust, async (req, res) => {
      const { added } = await addTrustAnchorFile(ctx, caller(res), fileOf(req, res));
      return { back: "/admin/trust", done: "trust.add", value: String(added) };
    }),
  );
  router.post(
    "/admin/trust/crls",
    ...guard,
    multipart("file"),
    change(trust, async (req, res) => {
      const { warnings } = await addCrlFile(ctx, caller(res), fileOf(req, res));
      // a CRL already past its next update is added, and said so
      if (warnings.length) return trust(req, res, 200, { ok: true, message: kit.web(res).t.admin.trust.crlAdded, details: warnings.map((w) => translate(w, kit.web(res).t.lang)) });
      return { back: "/admin/trust", done: "crl.add", value: "" };
    }),
  );

  // ---- users ----
  const users = async (req: Request, res: Response, status: number, outcome?: Outcome) =>
    kit.page(res, status, UsersPage, { ...(await frameFor(req, res, outcome)), users: await listAgencyUsers(ctx, caller(res)) });
  router.get("/admin/users", ...guard, view(users));
  router.post(
    "/admin/users",
    ...guard,
    change(users, async (req, res) => {
      const b = req.body;
      const user = await createUser(ctx, caller(res), { organId: caller(res).organId, role: optional(b.role), username: text(b.username).trim(), fullName: optional(b.fullName), password: text(b.password) });
      return { back: "/admin/users", done: "user.add", value: user.username };
    }),
  );
  router.post(
    "/admin/users/disable",
    ...guard,
    change(users, async (req, res) => {
      const user = await disableUser(ctx, caller(res), text(req.body.username));
      return { back: "/admin/users", done: "user.disable", value: user.username };
    }),
  );
  router.post(
    "/admin/users/password",
    ...guard,
    change(users, async (req, res) => {
      await changePassword(ctx, caller(res), text(req.body.username), text(req.body.password));
      return { back: "/admin/users", done: "user.password", value: text(req.body.username) };
    }),
  );

  // ---- API tokens ----
  const tokens = async (req: Request, res: Response, status: number, outcome?: Outcome, created?: { token: string; name: string }) =>
    kit.page(res, status, TokensPage, { ...(await frameFor(req, res, outcome)), tokens: await listApiTokens(ctx, caller(res)), created });
  router.get("/admin/tokens", ...guard, view(tokens));
  router.post(
    "/admin/tokens",
    ...guard,
    change(tokens, async (req, res) => {
      const b = req.body;
      const t = await createApiToken(ctx, caller(res), { organId: caller(res).organId, role: optional(b.role), name: optional(b.name), expiresIn: optional(b.expiresIn) });
      // shown once, on this answer (never in a URL, never stored in clear)
      await tokens(req, res, 201, undefined, { token: t.token, name: t.name });
    }),
  );
  router.post(
    "/admin/tokens/revoke",
    ...guard,
    change(tokens, async (req, res) => {
      const t = await revokeApiToken(ctx, caller(res), text(req.body.id));
      return { back: "/admin/tokens", done: "token.revoke", value: String(t.id) };
    }),
  );

  // ---- the delivery queue ----
  const queue = async (req: Request, res: Response, status: number, outcome?: Outcome) => {
    const [q, list] = await Promise.all([deliveryQueue(ctx, caller(res)), listRegistry(ctx)]);
    kit.page(res, status, QueuePage, { ...(await frameFor(req, res, outcome)), queue: q, names: new Map(list.map((a) => [a.organId, a.name])) });
  };
  router.get("/admin/queue", ...guard, view(queue));
  router.post(
    "/admin/queue/resend",
    ...guard,
    change(queue, async (req, res) => {
      const organId = optional(req.body.organId);
      await resendDocument(ctx, caller(res), text(req.body.document), organId ? { organId } : {});
      return { back: "/admin/queue", done: "resend", value: organId ?? "" };
    }),
  );

  // ---- the audit log ----
  router.get(
    "/admin/audit",
    ...guard,
    view(async (req, res, status) => {
      const { t } = kit.web(res);
      const q = req.query;
      const filter: AuditFilter = { actor: text(q.actor), action: text(q.action).trim(), from: text(q.from), to: text(q.to) };
      // dates of the form (yyyy-mm-dd) are days in Vietnam's time; "to" includes its day
      const day = (d: string, plus = 0) => (/^\d{4}-\d{2}-\d{2}$/.test(d) ? new Date(Date.parse(`${d}T00:00:00+07:00`) + plus * 86_400_000).toISOString() : d || undefined);
      const query = { actor: filter.actor || undefined, action: filter.action || undefined, since: day(filter.from), until: day(filter.to, 1), before: optional(q.before), limit: "50" };
      const [entries, users, tokenList] = await Promise.all([
        readAudit(ctx, caller(res), query).catch((err: unknown) => {
          const refused = refusal(res, err);
          if (!refused) throw err;
          status = refused.status;
          res.locals.outcome = refused.outcome;
          return [];
        }),
        listAgencyUsers(ctx, caller(res)),
        listApiTokens(ctx, caller(res)),
      ]);
      const actors = new Map<string, string>([["system", t.admin.audit.system], ...users.map((u) => [`user:${u.id}`, t.admin.audit.user(u.username)] as [string, string]), ...tokenList.map((k) => [`token:${k.id}`, t.admin.audit.token(k.name)] as [string, string])]);
      const last = entries.length === 50 ? entries[entries.length - 1].id : null;
      const params = new URLSearchParams(Object.entries({ ...filter, before: String(last) }).filter(([, v]) => v));
      kit.page(res, status, AuditPage, { ...(await frameFor(req, res, res.locals.outcome)), entries, filter, actors, next: last === null ? null : `/admin/audit?${params}` });
    }),
  );
}
