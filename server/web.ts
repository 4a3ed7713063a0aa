// The web pages: server-rendered preact components (server/pages/) calling the use cases directly,
// our CSS and htmx served by the node itself (no CDN: agencies run on closed networks), sessions in
// HttpOnly SameSite=Lax cookies (Secure when the public URL is https), a CSRF token checked on
// every POST, and a Content-Security-Policy that allows no inline script or style.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from "express";
import multer from "multer";
import { h, type FunctionComponent } from "preact";
import { render } from "preact-render-to-string";
import {
  AppError,
  DOCUMENT_KINDS,
  LANGUAGES,
  agencyIndicators,
  agencyNames,
  chooseLanguage,
  csrfToken,
  csrfTokenMatches,
  documentList,
  documentRecord,
  documentView,
  newVisitorId,
  ownDocument,
  readRegister,
  recipientChoices,
  resendDocument,
  searchAgencyDocuments,
  sendComposed,
  sessionCaller,
  signIn,
  setStatus,
  signOut,
  suggestOutgoingNumber,
  translate,
  verifyUpload,
  visitorSecret,
  type AppContext,
  type Language,
  type Session,
} from "../app/index.ts";
import { csv } from "./csv.ts";
import { ADMIN_PATHS, adminRoutes } from "./admin.ts";
import { httpError, logFailure } from "./errors.ts";
import { MAX_FILES, contentDisposition, sendAttachment, sendEvidence, uploadError, uploadedContentType, uploadedFileName } from "./http.ts";
import { COMPOSE_FIELDS, ComposePage, composeProblems, type ComposeProblems, type ComposeValues } from "./pages/compose.tsx";
import { BooksPage, DeliveriesRegion, DocumentListPage, DocumentPage, LIST_FILTERS, ReportPage, bookCsv, type ListQuery } from "./pages/documents.tsx";
import { IndicatorsPage, indicatorsCsv } from "./pages/indicators.tsx";
import { SearchPage, searchCsv, searchParams } from "./pages/search.tsx";
import { dictionary, type Dictionary } from "./pages/i18n.ts";
import { NAV, type Frame } from "./pages/layout.tsx";
import { ErrorPage, HomePage, SignInPage } from "./pages/simple.tsx";
import { VerifyPage, VerifyResult } from "./pages/verify.tsx";

const SESSION_COOKIE = "edoc_session";
const VISITOR_COOKIE = "edoc_visitor";
const LANGUAGE_COOKIE = "edoc_lang";

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

// the package root: server/ from the sources, dist/server/ once built
const ROOT = [new URL("../", import.meta.url), new URL("../../", import.meta.url)].map((u) => fileURLToPath(u)).find((dir) => existsSync(join(dir, "package.json")))!;
const ASSETS: Record<string, string> = {
  "app.css": join(ROOT, "server/assets/app.css"),
  "drop.js": join(ROOT, "server/assets/drop.js"),
  "print.js": join(ROOT, "server/assets/print.js"),
  "compose.js": join(ROOT, "server/assets/compose.js"),
  "htmx.min.js": createRequire(import.meta.url).resolve("htmx.org/dist/htmx.min.js"),
};

interface Web {
  t: Dictionary;
  session: Session | null;
  /** The CSRF secret: the session's, or the visitor's before signing in. */
  secret: string;
  /** The visitor's secret, also when signed in: a sign-in form opened before counts still. */
  visitorSecret: string | null;
  /** A session cookie came that opens no session (timed out, signed out elsewhere, user disabled). */
  ended: boolean;
}

function cookies(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.get("cookie") ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    try {
      out[part.slice(0, at).trim()] = decodeURIComponent(part.slice(at + 1).trim());
    } catch {
      // a cookie that is not ours
    }
  }
  return out;
}

const web = (res: Response): Web => res.locals.web as Web;

function frame(req: Request, res: Response): Frame {
  const { t, session, secret } = web(res);
  return { t, session, path: req.path, csrf: csrfToken(secret), languageToken: csrfToken(secret, "language") };
}

function page<P>(res: Response, status: number, component: FunctionComponent<P>, props: P): void {
  res.status(status).type("html").send(`<!doctype html>\n${render(h(component as FunctionComponent<object>, props as object))}`);
}

/** Only a path of this node, never another site: the language link's way back. */
const localPath = (p: unknown) => (typeof p === "string" && /^\/[A-Za-z0-9/_-]*$/.test(p) && !p.startsWith("//") ? p : "/");

export function webRoutes(ctx: AppContext): Router {
  const router = Router();
  const secure = ctx.config.publicUrl.startsWith("https:");
  const cookie = { httpOnly: true, sameSite: "lax" as const, secure, path: "/" };

  for (const [name, file] of Object.entries(ASSETS)) {
    router.get(`/assets/${name}`, (_req, res) => {
      res.set("Cache-Control", "public, max-age=3600").set("X-Content-Type-Options", "nosniff");
      res.sendFile(file);
    });
  }

  const documentPaths = ["/documents/:id", "/documents/:id/status", "/documents/:id/resend", "/documents/:id/evidence", "/documents/:id/report", "/documents/:id/deliveries", "/documents/:id/attachments/:n", "/books", "/books.csv"];
  const pagePaths = ["/", "/sign-in", "/sign-out", "/language", "/verify", "/search.csv", "/indicators.csv", ...NAV.map((n) => n.href), ...documentPaths, ADMIN_PATHS];
  // who is asking, in which language, with which CSRF secret; the security headers of every page
  router.all(pagePaths, async (req, res, next) => {
    try {
      const c = cookies(req);
      // a session that cannot be read now (the database busy or out of reach) is not an ended one:
      // the page of that error is answered without it, and the cookie is kept
      let failure: unknown;
      const session = await sessionCaller(ctx, c[SESSION_COOKIE]).catch((err: unknown) => {
        failure = err;
        return null;
      });
      const chosen = LANGUAGES.find((l) => l === c[LANGUAGE_COOKIE]);
      const language: Language = session?.language ?? chosen ?? "vi";
      let visitor: string | undefined = c[VISITOR_COOKIE];
      if (!/^[A-Za-z0-9_-]{43}$/.test(visitor ?? "")) visitor = undefined;
      if (!session && !visitor) {
        visitor = newVisitorId();
        res.cookie(VISITOR_COOKIE, visitor, cookie);
      }
      const visitorKey = visitor ? visitorSecret(ctx, visitor) : null;
      const ended = !session && failure === undefined && c[SESSION_COOKIE] !== undefined;
      if (ended) res.clearCookie(SESSION_COOKIE, cookie);
      res.locals.web = { t: dictionary(language), session, secret: session ? session.csrfSecret : visitorKey!, visitorSecret: visitorKey, ended } satisfies Web;
      res.set({
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
      });
      next(failure);
    } catch (err) {
      next(err);
    }
  });

  // every POST carries the form's token; a multipart form is checked as it is read (verify)
  const forms = express.urlencoded({ extended: false, limit: "16kb" });
  router.post(pagePaths, (req, res, next) => {
    if (req.is("multipart/form-data")) return next();
    forms(req, res, (err?: unknown) => {
      if (err) return next(err);
      const w = web(res);
      // signing out of a session that has already ended: nothing to protect, and the form's token is the old session's
      if (req.path === "/sign-out" && !w.session) return res.redirect(303, "/sign-in");
      const token = req.body?.csrf;
      const ok = csrfTokenMatches(w.secret, token) || (req.path === "/sign-in" && w.visitorSecret !== null && csrfTokenMatches(w.visitorSecret, token));
      if (!ok) return next(new AppError("forbidden", "the form's CSRF token is missing or wrong"));
      next();
    });
  });

  const signedIn: RequestHandler = (req, res, next) => {
    if (web(res).session) return next();
    const to = web(res).ended ? "/sign-in?ended=1" : "/sign-in";
    if (req.get("hx-request")) res.set("HX-Redirect", to).status(401).end();
    else res.redirect(303, to);
  };

  router.get("/", (req, res) => {
    if (!web(res).session) return res.redirect(303, web(res).ended ? "/sign-in?ended=1" : "/sign-in");
    page(res, 200, HomePage, frame(req, res));
  });

  router.get("/sign-in", (req, res) => {
    if (web(res).session) return res.redirect(303, "/");
    page(res, 200, SignInPage, { ...frame(req, res), notice: req.query.ended === "1" ? web(res).t.signIn.expired : undefined });
  });

  router.post("/sign-in", async (req, res, next) => {
    const username = String(req.body?.username ?? "");
    try {
      const { sessionId } = await signIn(ctx, { username, password: String(req.body?.password ?? ""), address: req.ip ?? req.socket.remoteAddress ?? "unknown" });
      res.cookie(SESSION_COOKIE, sessionId, cookie);
      res.redirect(303, "/");
    } catch (err) {
      if (!(err instanceof AppError) || (err.kind !== "unauthenticated" && err.kind !== "throttled")) return next(err);
      const { t } = web(res);
      let message = t.signIn.wrong;
      if (err.kind === "throttled") {
        const seconds = (err.details as { retryAfterSeconds: number }).retryAfterSeconds;
        res.set("Retry-After", String(seconds));
        message = t.signIn.throttled(Math.ceil(seconds / 60));
      }
      page(res, err.kind === "throttled" ? 429 : 401, SignInPage, { ...frame(req, res), message, username });
    }
  });

  router.post("/sign-out", async (req, res, next) => {
    try {
      await signOut(ctx, cookies(req)[SESSION_COOKIE]);
      res.clearCookie(SESSION_COOKIE, cookie);
      res.redirect(303, "/sign-in");
    } catch (err) {
      next(err);
    }
  });

  // a link (the contract's English / Tiếng Việt), so its token is one that can change nothing else
  router.get("/language", async (req, res, next) => {
    try {
      const { session, secret } = web(res);
      const to = LANGUAGES.find((l) => l === req.query.to);
      if (!to || !csrfTokenMatches(secret, req.query.token, "language")) throw new AppError("forbidden", "the language link's token is missing or wrong");
      if (session) await chooseLanguage(ctx, session, to);
      res.cookie(LANGUAGE_COOKIE, to, { ...cookie, maxAge: 365 * 24 * 3600 * 1000 });
      res.redirect(303, localPath(req.query.back));
    } catch (err) {
      next(err);
    }
  });

  router.get("/verify", signedIn, (req, res) => page(res, 200, VerifyPage, frame(req, res)));

  const tmpDir = join(ctx.config.dataDir, "tmp");
  // the token comes before the files (it is a form's first field): nothing is stored without it
  const tokenFirst: multer.Options["fileFilter"] = (req, _file, done) => {
    if (csrfTokenMatches(web(req.res!).secret, req.body?.csrf)) done(null, true);
    else done(new AppError("forbidden", "the form's CSRF token is missing or wrong"));
  };
  const verifyForm = multer({
    dest: tmpDir,
    limits: { fileSize: ctx.config.maxPacketBytes, files: 1, fields: 2, fieldSize: 1024, parts: 3 },
    fileFilter: tokenFirst,
  }).single("file");
  router.post("/verify", signedIn, (req, res, next) => {
    verifyForm(req, res, async (err?: unknown) => {
      const path = req.file?.path;
      try {
        if (err instanceof multer.MulterError && err.code === "LIMIT_FILE_SIZE") return answerVerify(req, res, 413, { message: web(res).t.verify.tooLarge(ctx.config.maxPacketBytes) });
        if (err) throw err;
        if (!csrfTokenMatches(web(res).secret, req.body?.csrf)) throw new AppError("forbidden", "the form's CSRF token is missing or wrong");
        if (!path || req.file!.size === 0) return answerVerify(req, res, 400, { message: web(res).t.verify.missing });
        answerVerify(req, res, 200, { report: await verifyUpload(ctx, path) });
      } catch (e) {
        next(e);
      } finally {
        if (path) await rm(path, { force: true });
      }
    });
  });

  // ---- Văn bản đến / đi, a document's page, the books ----
  const reader = (res: Response) => ({ caller: web(res).session!.caller, userId: web(res).session!.userId });
  for (const [href, direction] of [["/inbox", "in"], ["/outbox", "out"]] as const) {
    router.get(href, signedIn, async (req, res, next) => {
      // the filters the form sent, the empty ones left out
      const query: ListQuery = {};
      for (const k of LIST_FILTERS) if (typeof req.query[k] === "string" && req.query[k]) query[k] = req.query[k] as string;
      try {
        const list = await documentList(ctx, reader(res), direction, query);
        page(res, 200, DocumentListPage, { ...frame(req, res), direction, query, list });
      } catch (err) {
        if (!(err instanceof AppError) || err.kind !== "invalid") return next(err);
        page(res, 400, DocumentListPage, { ...frame(req, res), direction, query, message: pageError(web(res).t, err) });
      }
    });
  }

  const doneMessage = (t: Dictionary, done: unknown, incoming: { number: number } | null) => {
    if (done === "resend") return t.docs.done.resend;
    if (done === "03" && incoming) return t.docs.done["03"](incoming.number);
    if (done === "02") return t.docs.done["02"];
    return typeof done === "string" && t.statusNames[done] && /^\d\d$/.test(done) ? t.docs.done.status(t.statusNames[done]) : undefined;
  };
  router.get("/documents/:id", signedIn, async (req, res, next) => {
    try {
      const view = await documentView(ctx, reader(res), String(req.params.id));
      page(res, 200, DocumentPage, { ...frame(req, res), ...view, message: doneMessage(web(res).t, req.query.done, view.incoming) });
    } catch (err) {
      next(err);
    }
  });
  router.get("/documents/:id/report", signedIn, async (req, res, next) => {
    try {
      const view = await documentView(ctx, reader(res), String(req.params.id));
      page(res, 200, ReportPage, { ...frame(req, res), ...view, printedAt: ctx.now().toISOString() });
    } catch (err) {
      next(err);
    }
  });
  router.post("/documents/:id/status", signedIn, async (req, res, next) => {
    const id = String(req.params.id);
    try {
      const description = typeof req.body?.description === "string" && req.body.description.trim() ? req.body.description : undefined;
      await setStatus(ctx, reader(res).caller, id, { code: req.body?.code, description });
      res.redirect(303, `/documents/${encodeURIComponent(id)}?done=${encodeURIComponent(String(req.body?.code))}`);
    } catch (err) {
      next(err);
    }
  });
  router.post("/documents/:id/resend", signedIn, async (req, res, next) => {
    const id = String(req.params.id);
    try {
      await resendDocument(ctx, reader(res).caller, id, req.body?.organId ? { organId: String(req.body.organId) } : {});
      res.redirect(303, `/documents/${encodeURIComponent(id)}?done=resend`);
    } catch (err) {
      next(err);
    }
  });
  router.get("/documents/:id/attachments/:n", signedIn, async (req, res, next) => {
    try {
      await sendAttachment(ctx, res, await ownDocument(ctx, reader(res).caller, String(req.params.id)), String(req.params.n));
    } catch (err) {
      next(err);
    }
  });
  router.get("/documents/:id/evidence", signedIn, async (req, res, next) => {
    try {
      const { caller } = reader(res);
      await sendEvidence(ctx, res, caller, await ownDocument(ctx, caller, String(req.params.id)));
    } catch (err) {
      next(err);
    }
  });
  router.get(["/books", "/books.csv"], signedIn, async (req, res, next) => {
    try {
      const csv = req.path.endsWith(".csv");
      const { t } = web(res);
      const book = await readRegister(ctx, reader(res).caller, { book: req.query.book ?? "in", ...(req.query.year ? { year: req.query.year } : {}) }, { exported: csv });
      if (!csv) return page(res, 200, BooksPage, { ...frame(req, res), ...book });
      const name = `${book.book === "in" ? "so-van-ban-den" : "so-van-ban-di"}-${book.year}.csv`;
      res.status(200).type("text/csv; charset=utf-8").set("Content-Disposition", `attachment; filename="${name}"`).send(bookCsv(t, book.book, book.entries));
    } catch (err) {
      next(err);
    }
  });

  // ---- Soạn văn bản ----------------------------------------------------------------------------

  const composeForm = multer({
    dest: tmpDir,
    limits: { fileSize: ctx.config.maxUploadBytes, files: MAX_FILES, fields: 40, fieldSize: 16 * 1024, fieldNameSize: 100, parts: MAX_FILES + 40 },
    fileFilter: tokenFirst,
  }).array("files", MAX_FILES);

  async function composePage(req: Request, res: Response, status: number, extra: { values?: ComposeValues; problems?: ComposeProblems; sendKey?: string } = {}) {
    const caller = web(res).session!.caller;
    const [groups, suggestedNumber] = await Promise.all([recipientChoices(ctx, caller), suggestOutgoingNumber(ctx, caller)]);
    page(res, status, ComposePage, { ...frame(req, res), groups, kinds: DOCUMENT_KINDS, suggestedNumber, maxUploadBytes: ctx.config.maxUploadBytes, ...extra, sendKey: extra.sendKey ?? randomUUID() });
  }

  router.get("/compose", signedIn, async (req, res, next) => {
    try {
      await composePage(req, res, 200);
    } catch (err) {
      next(err);
    }
  });

  router.post("/compose", signedIn, (req, res, next) => {
    composeForm(req, res, async (err?: unknown) => {
      const files = (Array.isArray(req.files) ? req.files : []) as Express.Multer.File[];
      const { t, session, secret } = web(res);
      const body = (req.body ?? {}) as Record<string, unknown>;
      // the same key when the form comes back with its problems: it has sent nothing yet
      const again = (problems: ComposeProblems) => composePage(req, res, 400, { values: composeValues(body), problems, sendKey: typeof body.key === "string" ? body.key : undefined });
      try {
        if (err) {
          const e = uploadError(err, ctx.config.maxUploadBytes);
          if (e instanceof AppError && e.kind === "too-large") return await again({ fields: { files: [t.compose.tooLarge(`${Math.round(ctx.config.maxUploadBytes / 1024 / 1024)} MB`)] }, general: [] });
          throw e;
        }
        if (!csrfTokenMatches(secret, body.csrf)) throw new AppError("forbidden", "the form's CSRF token is missing or wrong");
        const uploaded = files.map((f) => ({ path: f.path, name: uploadedFileName(f.originalname), contentType: uploadedContentType(f.mimetype) }));
        const sent = await sendComposed(ctx, session!.caller, body, uploaded);
        const to = `/documents/${sent.id}`;
        // compose.js follows the Location itself (a redirect would be followed inside its request)
        if (req.get("x-edoc-upload") === "1") res.status(201).location(to).end();
        else res.redirect(303, to);
      } catch (e) {
        if (!(e instanceof AppError) || (e.kind !== "invalid" && e.kind !== "conflict")) return next(e);
        // a conflict is the number: this agency sent one with the same số, ký hiệu and date
        const problems = e.kind === "conflict" ? composeProblems(t, [e.message], "number") : composeProblems(t, Array.isArray(e.details) ? (e.details as string[]) : [e.message]);
        await again(problems).catch(next);
      } finally {
        await Promise.all(files.map((f) => rm(f.path, { force: true })));
      }
    });
  });

  // the recipients' region of an outbound document's page, polled while a delivery is on its way
  router.get("/documents/:id/deliveries", signedIn, async (req, res, next) => {
    try {
      const caller = reader(res).caller;
      const [record, names] = await Promise.all([documentRecord(ctx, await ownDocument(ctx, caller, String(req.params.id))), agencyNames(ctx)]);
      const { t } = web(res);
      res.status(200).type("html").send(render(h(DeliveriesRegion, { t, csrf: frame(req, res).csrf, record, names, clerk: caller.role === "clerk" })));
    } catch (err) {
      next(err);
    }
  });

  // ---- Tra cứu and Chỉ số -------------------------------------------------------------------------
  router.get("/search", signedIn, async (req, res, next) => {
    try {
      const query = searchParams(req.query);
      let result: Awaited<ReturnType<typeof searchAgencyDocuments>> | undefined;
      let problems: string[] = [];
      try {
        result = await searchAgencyDocuments(ctx, web(res).session!.caller, query);
      } catch (err) {
        if (!(err instanceof AppError) || err.kind !== "invalid") throw err;
        problems = (Array.isArray(err.details) ? (err.details as string[]) : [err.message]).map((p) => translate(p, web(res).t.lang));
      }
      const names = await agencyNames(ctx);
      page(res, problems.length ? 400 : 200, SearchPage, { ...frame(req, res), query, result, problems, names });
    } catch (err) {
      next(err);
    }
  });

  router.get("/search.csv", signedIn, async (req, res, next) => {
    try {
      const { t, session } = web(res);
      const names = await agencyNames(ctx);
      const rows = await searchCsv(t, names, (page) => searchAgencyDocuments(ctx, session!.caller, { ...searchParams(req.query), page: String(page), pageSize: "200" }));
      sendCsv(res, `tra-cuu-${new Date().toISOString().slice(0, 10)}.csv`, rows);
    } catch (err) {
      next(err);
    }
  });

  router.get("/indicators", signedIn, async (req, res, next) => {
    try {
      const { t, session } = web(res);
      const query = searchParams(req.query, ["from", "to"]);
      const names = await agencyNames(ctx);
      try {
        page(res, 200, IndicatorsPage, { ...frame(req, res), query, names, indicators: await agencyIndicators(ctx, session!.caller, query) });
      } catch (err) {
        if (!(err instanceof AppError) || err.kind !== "invalid") throw err;
        const problems = (Array.isArray(err.details) ? (err.details as string[]) : [err.message]).map((p) => translate(p, t.lang));
        page(res, 400, IndicatorsPage, { ...frame(req, res), query, names, problems });
      }
    } catch (err) {
      next(err);
    }
  });

  router.get("/indicators.csv", signedIn, async (req, res, next) => {
    try {
      const { t, session } = web(res);
      const indicators = await agencyIndicators(ctx, session!.caller, searchParams(req.query, ["from", "to"]));
      const names = await agencyNames(ctx);
      sendCsv(res, `chi-so-${indicators.from}-${indicators.to}.csv`, indicatorsCsv(t, indicators, names));
    } catch (err) {
      next(err);
    }
  });

  adminRoutes(router, ctx, {
    web,
    frame,
    page,
    signedIn,
    refuse: (req, res, status, message) => page(res, status, ErrorPage, { ...frame(req, res), message }),
  });

  // errors of the pages as a page (the API keeps its JSON)
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!res.locals.web || res.headersSent) return next(err);
    const { t } = web(res);
    const { status, retryAfterSeconds } = httpError(err);
    logFailure(ctx.log, err, req, "page failed");
    // a 503 says what is unavailable and when to try again; any other 5xx only that it was logged
    const message = status === 403 ? t.errors.forbidden : status === 404 ? t.errors.notFound : status < 500 || status === 503 ? pageError(t, err) : t.errors.internal;
    if (retryAfterSeconds !== undefined) res.set("Retry-After", String(retryAfterSeconds));
    page(res, status, ErrorPage, { ...frame(req, res), message });
  });
  return router;
}

/** A use case's refusal in the page's language, with the problems it lists. */
function pageError(t: Dictionary, err: unknown): string {
  const { message, details } = httpError(err);
  const problems = Array.isArray(details) ? details.filter((d): d is string => typeof d === "string").map((d) => translate(d, t.lang)) : [];
  return [translate(message, t.lang), ...problems].join(": ");
}

/** The compose form's fields as they came, to show the form again with its problems. */
function composeValues(body: Record<string, unknown>): ComposeValues {
  const values: ComposeValues = {};
  for (const f of COMPOSE_FIELDS) {
    const v = body[f];
    if (f === "to") values.to = (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === "string");
    else if (f !== "files" && typeof v === "string") values[f] = v;
  }
  return values;
}

/** A CSV download: UTF-8 with a byte order mark, so that Excel shows Vietnamese as it is. */
function sendCsv(res: Response, name: string, rows: ReadonlyArray<ReadonlyArray<string | number>>) {
  res.status(200).type("text/csv; charset=utf-8").set("Content-Disposition", contentDisposition("attachment", name)).send(csv(rows));
}

function answerVerify(req: Request, res: Response, status: number, result: { report?: Parameters<typeof VerifyPage>[0]["report"]; message?: string }) {
  const { t } = web(res);
  // htmx swaps the result region only (and wants a 200 to do so)
  if (req.get("hx-request")) res.status(200).type("html").send(render(h(VerifyResult, { t, ...result })));
  else page(res, status, VerifyPage, { ...frame(req, res), ...result });
}
