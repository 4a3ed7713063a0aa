// The web pages: server-rendered preact components (server/pages/) calling the use cases directly,
// our CSS and htmx served by the node itself (no CDN: agencies run on closed networks), sessions in
// HttpOnly SameSite=Lax cookies (Secure when the public URL is https), a CSRF token checked on
// every POST, and a Content-Security-Policy that allows no inline script or style.
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
  LANGUAGES,
  chooseLanguage,
  csrfToken,
  csrfTokenMatches,
  newVisitorId,
  sessionCaller,
  signIn,
  signOut,
  verifyUpload,
  visitorSecret,
  type AppContext,
  type Language,
  type Session,
} from "../app/index.ts";
import { ADMIN_PATHS, adminRoutes } from "./admin.ts";
import { httpError } from "./errors.ts";
import { dictionary, type Dictionary } from "./pages/i18n.ts";
import { NAV, type Frame } from "./pages/layout.tsx";
import { BuildingPage, ErrorPage, HomePage, SignInPage } from "./pages/simple.tsx";
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

  const pagePaths = ["/", "/sign-in", "/sign-out", "/language", "/verify", ...NAV.map((n) => n.href), ADMIN_PATHS];
  // who is asking, in which language, with which CSRF secret; the security headers of every page
  router.all(pagePaths, async (req, res, next) => {
    try {
      const c = cookies(req);
      const session = await sessionCaller(ctx, c[SESSION_COOKIE]);
      const chosen = LANGUAGES.find((l) => l === c[LANGUAGE_COOKIE]);
      const language: Language = session?.language ?? chosen ?? "vi";
      let visitor: string | undefined = c[VISITOR_COOKIE];
      if (!/^[A-Za-z0-9_-]{43}$/.test(visitor ?? "")) visitor = undefined;
      if (!session && !visitor) {
        visitor = newVisitorId();
        res.cookie(VISITOR_COOKIE, visitor, cookie);
      }
      const visitorKey = visitor ? visitorSecret(ctx, visitor) : null;
      const ended = !session && c[SESSION_COOKIE] !== undefined;
      if (ended) res.clearCookie(SESSION_COOKIE, cookie);
      res.locals.web = { t: dictionary(language), session, secret: session ? session.csrfSecret : visitorKey!, visitorSecret: visitorKey, ended } satisfies Web;
      res.set({
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
      });
      next();
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
  const verifyForm = multer({
    dest: tmpDir,
    limits: { fileSize: ctx.config.maxPacketBytes, files: 1, fields: 2, fieldSize: 1024, parts: 3 },
    // the token comes before the file (it is the form's first field): nothing is stored without it
    fileFilter: (req, _file, done) => {
      if (csrfTokenMatches(web(req.res!).secret, req.body?.csrf)) done(null, true);
      else done(new AppError("forbidden", "the form's CSRF token is missing or wrong"));
    },
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

  adminRoutes(router, ctx, {
    web,
    frame,
    page,
    signedIn,
    refuse: (req, res, status, message) => page(res, status, ErrorPage, { ...frame(req, res), message }),
  });

  // the pages of the navigation not built yet: for the roles that may use them
  for (const n of NAV.filter((n) => n.key !== "verify" && n.key !== "admin")) {
    router.get(n.href, signedIn, (req, res, next) => {
      const { session, t } = web(res);
      if (n.roles && !n.roles.includes(session!.role)) return next(new AppError("forbidden", "this page is not for your role"));
      page(res, 200, BuildingPage, { ...frame(req, res), title: t.nav[n.key] });
    });
  }

  // errors of the pages as a page (the API keeps its JSON)
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (!res.locals.web || res.headersSent) return next(err);
    const { t } = web(res);
    const answer = httpError(err);
    const status = answer.status;
    if (status >= 500) ctx.log.error({ err, method: req.method, url: req.originalUrl }, "page failed");
    const message = status === 403 ? t.errors.forbidden : status === 404 ? t.errors.notFound : status < 500 ? answer.message : t.errors.internal;
    page(res, status, ErrorPage, { ...frame(req, res), message });
  });
  return router;
}

function answerVerify(req: Request, res: Response, status: number, result: { report?: Parameters<typeof VerifyPage>[0]["report"]; message?: string }) {
  const { t } = web(res);
  // htmx swaps the result region only (and wants a 200 to do so)
  if (req.get("hx-request")) res.status(200).type("html").send(render(h(VerifyResult, { t, ...result })));
  else page(res, status, VerifyPage, { ...frame(req, res), ...result });
}
