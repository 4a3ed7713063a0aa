// The sign-in page, the home page, a page still being built, and an error page.
import { Layout, type Frame } from "./layout.tsx";

/** `message`: why the sign-in failed (an alert); `notice`: why the visitor is here (a session ended). */
export function SignInPage(props: Frame & { message?: string; notice?: string; username?: string }) {
  const { t } = props;
  return (
    <Layout {...props} title={t.signIn.title}>
      <p>{t.signIn.intro}</p>
      {props.notice && (
        <p class="note" role="status">
          {props.notice}
        </p>
      )}
      {props.message && (
        <p class="alert" role="alert">
          {props.message}
        </p>
      )}
      <form method="post" action="/sign-in" class="stack">
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="username">{t.signIn.username}</label>
        <input id="username" name="username" autocomplete="username" required value={props.username ?? ""} autofocus={!props.username} />
        <label for="password">{t.signIn.password}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required autofocus={!!props.username} />
        <button type="submit">{t.signIn.submit}</button>
      </form>
    </Layout>
  );
}

export function HomePage(props: Frame) {
  const { t, session } = props;
  if (!session) throw new Error("the home page needs a session");
  // no links of its own: each name of the navigation is on the page once (the contract's checks find them by name)
  return (
    <Layout {...props} title={t.home.title}>
      <p>{t.home.welcome(session.fullName || session.username)}</p>
      <p>{t.home.choose}</p>
    </Layout>
  );
}

export function ErrorPage(props: Frame & { message: string }) {
  const { t } = props;
  return (
    <Layout {...props} title={t.errors.title}>
      <p class="alert" role="alert">
        {props.message}
      </p>
      <p>
        <a href="/">{t.errors.back}</a>
      </p>
    </Layout>
  );
}
