// The compose form (Soạn văn bản): finds recipients by name or organ id as one types (without
// diacritics mattering), and sends the form itself so that a progress bar can show the upload
// (large files are routine). While a send is under way the form is not sent again; the form's key
// covers what this cannot (a reload, another tab). Without this script the form posts as it is.
const form = document.querySelector("[data-compose]");
if (form) {
  const fold = (s) => s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();

  for (const find of document.querySelectorAll("[data-find]")) {
    const select = document.getElementById(find.dataset.find);
    find.hidden = false;
    find.addEventListener("input", () => {
      const words = fold(find.value).split(/\s+/).filter(Boolean);
      for (const group of select.querySelectorAll("optgroup")) {
        let shown = 0;
        for (const option of group.querySelectorAll("option")) {
          const text = fold(option.dataset.search || option.textContent);
          // a chosen recipient stays in view, so that it can be seen and unchosen
          option.hidden = !option.selected && !words.every((w) => text.includes(w));
          if (!option.hidden) shown++;
        }
        group.hidden = shown === 0;
      }
    });
  }

  const button = form.querySelector("button[type=submit]");
  const upload = form.querySelector("[data-upload]");
  const bar = upload.querySelector("progress");
  const say = upload.querySelector("[data-upload-text]");
  let busy = false;

  const done = () => {
    busy = false;
    button.disabled = false;
    form.removeAttribute("aria-busy");
  };

  /** The problems of a page the node answered, beside the fields of this form (its files stay chosen). */
  function showProblems(html) {
    const answer = new DOMParser().parseFromString(html, "text/html");
    const theirs = answer.querySelector("[data-problems]");
    const ours = document.querySelector("[data-problems]");
    if (!theirs) return false;
    ours.replaceChildren(...[...theirs.childNodes].map((n) => document.importNode(n, true)));
    ours.className = theirs.className;
    for (const el of form.querySelectorAll("[data-error-for]")) {
      const field = el.dataset.errorFor;
      const text = answer.querySelector(`[data-error-for="${field}"]`)?.textContent ?? "";
      el.textContent = text;
      const input = document.getElementById(field);
      if (text) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    ours.focus();
    return true;
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (busy) return;
    busy = true;
    button.disabled = true;
    form.setAttribute("aria-busy", "true");
    upload.hidden = false;
    bar.value = 0;
    say.textContent = say.dataset.uploading.replace("{percent}", "0 %");

    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Edoc-Upload", "1");
    xhr.upload.addEventListener("progress", (p) => {
      if (!p.lengthComputable) return;
      const percent = Math.floor((p.loaded / p.total) * 100);
      bar.value = percent;
      say.textContent = say.dataset.uploading.replace("{percent}", `${percent} %`);
    });
    xhr.upload.addEventListener("load", () => {
      bar.value = 100;
      say.textContent = say.dataset.signing;
    });
    xhr.addEventListener("load", () => {
      const to = xhr.getResponseHeader("Location");
      if (xhr.status === 201 && to) return location.assign(to);
      // sent elsewhere on the way (the session ended: the sign-in page): go there
      if (xhr.responseURL && new URL(xhr.responseURL).pathname !== new URL(form.action).pathname) return location.assign(xhr.responseURL);
      done();
      upload.hidden = true;
      if (xhr.status >= 400 && xhr.status < 500 && showProblems(xhr.responseText)) return;
      // anything else (refused, the node's own failure): the page it answered
      const answer = new DOMParser().parseFromString(xhr.responseText, "text/html");
      document.title = answer.title;
      document.body.replaceWith(document.importNode(answer.body, true));
    });
    xhr.addEventListener("error", () => {
      done();
      say.textContent = say.dataset.lost;
    });
    xhr.send(new FormData(form));
  });
}
