// Nothing typed is lost when the session ends while someone writes (docs/architecture.md,
// "Text typed when the session ends"). When a plain POST form is sent, a copy of its text
// fields (never passwords, hidden fields or the CSRF token) is kept in this tab's
// sessionStorage with the signed-in person's id and the time. The next page says what became
// of it through <body data-kept-typing>:
// - "not-sent" (the CSRF 400 page, the sign-in page): the text was not taken, the copy stays;
// - "forget-all" (the sign-in page after Sign out): every copy in this tab goes;
// - nothing: the write went through, or a refused form already shows the text
//   (serviceideas/refusals.py), so the copy just sent goes.
// A kept copy is put back when its person opens the page of that form again within a day and
// its fields are still as the page served them. Without JavaScript none of this happens.
(() => {
  const PREFIX = "serviceideas:typed:";
  const KEPT_FOR_MS = 24 * 60 * 60 * 1000;
  const TEXT_TYPES = new Set(["text", "search", "email", "url", "tel", "number", "date"]);
  const body = document.body;
  const person = body.dataset.person || "";

  let store;
  try {
    store = window.sessionStorage;
    store.length; // access may throw (storage off): then nothing is kept
  } catch {
    return;
  }

  function actionOf(form) {
    const action = form.getAttribute("hx-post") || form.getAttribute("action") || "";
    const url = new URL(action, document.baseURI);
    return url.pathname + url.search;
  }
  function keyOf(form) {
    return `${PREFIX}${location.pathname} ${actionOf(form)}`;
  }
  function textFields(form) {
    return [...form.elements].filter(
      (field) =>
        field.name &&
        field.name !== "csrf_token" &&
        !field.disabled &&
        !field.readOnly &&
        (field instanceof HTMLTextAreaElement ||
          (field instanceof HTMLInputElement && TEXT_TYPES.has(field.type))),
    );
  }
  function keep(form, sent) {
    if (!person) return false; // only a signed-in person's text
    const fields = textFields(form).map((field) => [field.name, field.value]);
    if (!fields.some(([, value]) => value.trim())) return false;
    const copy = { person, at: Date.now(), sent, fields };
    try {
      store.setItem(keyOf(form), JSON.stringify(copy));
      return true;
    } catch {
      return false; // storage full or refused: the form is sent as ever
    }
  }
  function copies() {
    const found = [];
    for (let i = 0; i < store.length; i++) {
      const key = store.key(i);
      if (!key?.startsWith(PREFIX)) continue;
      try {
        found.push([key, JSON.parse(store.getItem(key))]);
      } catch {
        found.push([key, null]);
      }
    }
    return found;
  }

  // What this page says about the copies: drop what is over, another person's and, unless the
  // page says the text was not sent, the copy of the form just sent.
  const mode = body.dataset.keptTyping || "";
  let keptJustNow = false;
  for (const [key, copy] of copies()) {
    const over = !copy || !(Date.now() - copy.at < KEPT_FOR_MS);
    if (over || mode === "forget-all" || (person && copy.person !== person)) {
      store.removeItem(key);
    } else if (copy.sent && mode === "not-sent") {
      store.setItem(key, JSON.stringify({ ...copy, sent: false }));
      keptJustNow = true;
    } else if (copy.sent) {
      store.removeItem(key);
    }
  }
  if (keptJustNow) {
    for (const note of document.querySelectorAll("[data-kept-typing-note]")) note.hidden = false;
  }

  function isPlainPost(form) {
    return form.method === "post" && !form.target && !form.hasAttribute("hx-post");
  }
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement) || !isPlainPost(form)) return;
    keep(form, true);
  });

  // An htmx form (a comment) refused because the session ended: its text stays in place, but
  // this page's token is dead, so the person must sign in again and come back. The text is kept
  // as for a plain form, and the error box says so with the sign-in link the server gave.
  document.addEventListener("htmx:responseError", (event) => {
    const { xhr, elt } = event.detail;
    if (xhr.status !== 400 || !xhr.responseText.includes("data-signed-out")) return;
    const answer = new DOMParser().parseFromString(xhr.responseText, "text/html");
    const signedOut = answer.querySelector("[data-signed-out]");
    const box = document.getElementById("request-error");
    if (!signedOut || !box) return;
    const form = elt?.closest?.("form");
    const kept = form ? keep(form, false) : false;
    const note = signedOut.querySelector("[data-kept-typing-note]");
    const signIn = signedOut.querySelector("a[href^='/']");
    box.replaceChildren(signedOut.querySelector("p")?.textContent.trim() ?? "");
    if (kept && note) box.append(" ", note.textContent.trim());
    if (signIn) {
      const link = document.createElement("a");
      link.href = signIn.getAttribute("href");
      link.textContent = signIn.textContent.trim();
      box.append(" ", link);
    }
    box.hidden = false;
  });

  // A look-up made while typing (similar ideas, a picker) found the session ended: htmx is sent
  // to the sign-in page, and back to this page after it. What was typed into this page's forms
  // (changed since the page came) is kept as if it had been refused.
  document.addEventListener("htmx:beforeOnLoad", (event) => {
    const to = event.detail.xhr.getResponseHeader("HX-Redirect");
    const signIn = body.dataset.signIn;
    if (!to || !signIn || new URL(to, location.href).pathname !== signIn) return;
    for (const form of document.querySelectorAll("form")) {
      const sends = form.method === "post" || form.hasAttribute("hx-post");
      const typed = textFields(form).some((field) => field.value !== field.defaultValue);
      if (sends && typed) keep(form, false);
    }
  });

  // Put a kept copy back into its form: only a signed-in person's own, and only into fields
  // the person has not changed since the page came (empty, or as the server filled them).
  if (!person) return;
  const back = body.dataset.typingBack || "";
  const discard = body.dataset.typingDiscard || "";
  for (const form of document.querySelectorAll("form")) {
    const key = keyOf(form);
    const raw = store.getItem(key);
    if (!raw) continue;
    let copy;
    try {
      copy = JSON.parse(raw);
    } catch {
      store.removeItem(key);
      continue;
    }
    if (copy.sent || copy.person !== person) continue;
    const fields = textFields(form);
    const wanted = new Map();
    for (const [name, value] of copy.fields) {
      wanted.set(name, [...(wanted.get(name) || []), value]);
    }
    const filling = [];
    for (const field of fields) {
      const value = wanted.get(field.name)?.shift();
      if (value !== undefined) filling.push([field, value, field.value]);
    }
    const untouched = filling.every(
      ([field, , now]) => now === "" || now === field.defaultValue,
    );
    const changes = filling.some(([, value, now]) => value !== now);
    store.removeItem(key);
    if (!untouched || !changes) continue;
    for (const [field, value] of filling) {
      field.value = value;
      field.dispatchEvent(new Event("input", { bubbles: true }));
    }
    const note = document.createElement("div");
    note.className = "flash kept-typing";
    const said = document.createElement("p");
    said.setAttribute("role", "status");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary outline compact";
    button.textContent = discard;
    note.append(said, button);
    form.before(note);
    setTimeout(() => {
      said.textContent = back; // a moment after the region appears, so that it is read out
    }, 50);
    button.addEventListener("click", () => {
      for (const [field, , before] of filling) {
        field.value = before;
        field.dispatchEvent(new Event("input", { bubbles: true }));
      }
      note.remove();
      filling[0]?.[0].focus();
    });
  }
})();
