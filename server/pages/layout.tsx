// The frame of every page: the head (our CSS and htmx, both served by the node), the header with
// the signed-in person, the language link and Đăng xuất, the navigation of the roles, and main.
import type { ComponentChildren } from "preact";
import { CLERKS, DOCUMENT_READERS, ADMINS, type Role, type Session } from "../../app/index.ts";
import type { Dictionary } from "./i18n.ts";

/** The navigation of the UI contract: each entry shown only to the roles that may use it (null: everyone signed in). */
export const NAV: ReadonlyArray<{ key: keyof Dictionary["nav"] & string; href: string; roles: readonly Role[] | null }> = [
  { key: "inbox", href: "/inbox", roles: DOCUMENT_READERS },
  { key: "outbox", href: "/outbox", roles: DOCUMENT_READERS },
  { key: "compose", href: "/compose", roles: CLERKS },
  { key: "search", href: "/search", roles: DOCUMENT_READERS },
  { key: "indicators", href: "/indicators", roles: DOCUMENT_READERS },
  { key: "verify", href: "/verify", roles: null },
  { key: "admin", href: "/admin", roles: ADMINS },
];

const navFor = (role: Role) => NAV.filter((n) => n.roles === null || n.roles.includes(role));

export interface Frame {
  t: Dictionary;
  session: Session | null;
  /** The path of the page, for the current link and the language link's way back. */
  path: string;
  /** The form token of the visitor or session. */
  csrf: string;
  /** The language link's token. */
  languageToken: string;
}

export function Layout(props: Frame & { title: string; children: ComponentChildren; scripts?: string[] }) {
  const { t, session, path, csrf, languageToken, title } = props;
  const other = `/language?to=${t.other.language}&back=${encodeURIComponent(path)}&token=${encodeURIComponent(languageToken)}`;
  return (
    <html lang={t.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {/* htmx may not add inline styles or evaluate code: the Content-Security-Policy refuses both */}
        <meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}' />
        <title>{`${title} · edoc`}</title>
        <link rel="stylesheet" href="/assets/app.css" />
        <script src="/assets/htmx.min.js" defer></script>
        {props.scripts?.map((s) => <script src={s} defer></script>)}
      </head>
      <body>
        <a class="skip" href="#main">
          {t.skip}
        </a>
        <header class="top">
          <p class="product">
            <a href="/">{t.product}</a>
          </p>
          <div class="who">
            {session && (
              <p>
                {t.signedInAs} <span class="name">{session.fullName || session.username}</span> ({t.roles[session.role]}, {session.caller.organId})
              </p>
            )}
            <a href={other} lang={t.other.language} hreflang={t.other.language}>
              {t.other.label}
            </a>
            {session && (
              <form method="post" action="/sign-out" class="inline">
                <input type="hidden" name="csrf" value={csrf} />
                <button type="submit">{t.signOut}</button>
              </form>
            )}
          </div>
        </header>
        {session && (
          <nav aria-label={t.nav.label} class="nav">
            <ul>
              {navFor(session.role).map((n) => (
                <li>
                  <a href={n.href} aria-current={path === n.href ? "page" : undefined}>
                    {t.nav[n.key]}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <main id="main" tabindex={-1}>
          <h1>{title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}
