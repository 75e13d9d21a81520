// Nothing typed is lost when the session ends while someone writes (docs/architecture.md,
// "Text typed when the session ends"). When a plain POST form is sent, a copy of its text
// fields (never passwords, hidden fields or the CSRF token), with the choices made beside them
// (options chosen, boxes ticked), is kept in this tab's
// sessionStorage with the signed-in person's id and the time. The next page says what became
// of it through <body data-kept-typing>:
// - "not-sent" (the CSRF 400 page, the sign-in page): the text was not taken, the copy stays;
// - "forget-all" (the sign-in page after Sign out): every copy in this tab goes;
// - nothing: the write went through, or a refused form already shows the text
//   (serviceideas/refusals.py), so the copy just sent goes.
// A kept copy is put back when its person opens the page of that form again within a day, its
// fields are still as the page served them, and the page still serves the form the text was
// typed into: the hidden fields that say which version of something it edits (a module's
// `revision`, `module_version`, `seen_change`…) are as they were. When they are not, sending
// the old text would overwrite what someone changed since: the text is not put back but shown
// to copy from. Without JavaScript none of this happens.
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
  // The hidden fields the page served the form with, as it served them (never the CSRF token,
  // nor a token naming one sending, which each page load makes anew): which version of
  // something the form edits. Read when the form comes, before scripts change any.
  const servedWith = new WeakMap();
  function served(form) {
    if (!servedWith.has(form)) {
      const hidden = [...form.elements].filter(
        (field) =>
          field instanceof HTMLInputElement &&
          field.type === "hidden" &&
          field.name &&
          field.name !== "csrf_token" &&
          !/(^|_)token$/.test(field.name),
      );
      servedWith.set(form, JSON.stringify(hidden.map((field) => [field.name, field.value])));
    }
    return servedWith.get(form);
  }
  // The choices made beside the text (a lens, a team from a list, boxes ticked), to go back
  // with it: [name, value] of each chosen option.
  function choiceFields(form) {
    return [...form.elements].filter(
      (field) =>
        field.name &&
        !field.disabled &&
        (field instanceof HTMLSelectElement ||
          (field instanceof HTMLInputElement && ["radio", "checkbox"].includes(field.type))),
    );
  }
  function chosen(form) {
    return choiceFields(form).flatMap((field) =>
      field instanceof HTMLSelectElement
        ? [...field.selectedOptions].map((option) => [field.name, option.value])
        : field.checked
          ? [[field.name, field.value]]
          : [],
    );
  }
  function choicesAsServed(form) {
    return choiceFields(form).every((field) =>
      field instanceof HTMLSelectElement
        ? [...field.options].every((option) => option.selected === option.defaultSelected)
        : field.checked === field.defaultChecked,
    );
  }
  // Each field takes the kept choices only where one of them is among its own options (a team
  // since removed leaves the field as served, never on an option nobody chose).
  function choose(form, choices) {
    const wanted = new Set(choices.map(([name, value]) => `${name}\u0000${value}`));
    const has = (field, value) => wanted.has(`${field.name}\u0000${value}`);
    const fields = choiceFields(form);
    const offered = (field) =>
      field instanceof HTMLSelectElement
        ? [...field.options].some((option) => has(field, option.value))
        : fields.some((other) => other.name === field.name && has(other, other.value));
    for (const field of fields) {
      if (!offered(field)) continue;
      let changed = false;
      if (field instanceof HTMLSelectElement) {
        for (const option of field.options) {
          changed ||= option.selected !== has(field, option.value);
          option.selected = has(field, option.value);
        }
      } else {
        changed = field.checked !== has(field, field.value);
        field.checked = has(field, field.value);
      }
      if (changed) field.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
  function chooseAsServed(form) {
    for (const field of choiceFields(form)) {
      if (field instanceof HTMLSelectElement) {
        for (const option of field.options) option.selected = option.defaultSelected;
      } else {
        field.checked = field.defaultChecked;
      }
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
  function keep(form, sent) {
    if (!person) return false; // only a signed-in person's text
    const fields = textFields(form).map((field) => [field.name, field.value]);
    if (!fields.some(([, value]) => value.trim())) return false;
    const copy = {
      person,
      at: Date.now(),
      sent,
      fields,
      choices: chosen(form),
      served: served(form),
    };
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

  // A form sent and taken: what it held, for a day, so that the browser filling the form in
  // again when the person goes Back to it (browsers restore typed fields) does not lead to the
  // same text being sent twice: the form is put back as the page served it (clearIfTaken).
  const TAKEN = "serviceideas:taken:";
  function takenKey(key) {
    return TAKEN + key.slice(PREFIX.length);
  }
  // Only a digest of the text is kept: enough to know it again, nothing to read back.
  function digest(fields) {
    const text = JSON.stringify(fields);
    let a = 0x811c9dc5;
    let b = 0x01000193;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
    return `${(a >>> 0).toString(16)}${(b >>> 0).toString(16)}`;
  }
  function rememberTaken(key, fields) {
    if (!person || !fields.some(([, value]) => value.trim())) return;
    try {
      store.setItem(takenKey(key), JSON.stringify({ person, at: Date.now(), text: digest(fields) }));
    } catch {
      // storage full or refused: nothing is remembered
    }
  }
  function clearIfTaken(form) {
    const key = takenKey(keyOf(form));
    let taken;
    try {
      taken = JSON.parse(store.getItem(key));
    } catch {
      taken = null;
    }
    if (!taken) return;
    if (!(Date.now() - taken.at < KEPT_FOR_MS) || taken.person !== person) {
      store.removeItem(key);
      return;
    }
    const fields = textFields(form);
    const refilled = fields.some((field) => field.value !== field.defaultValue);
    if (refilled && digest(fields.map((field) => [field.name, field.value])) === taken.text) {
      form.reset();
      // What depends on the fields (the review panel's steps, look-ups) follows them back.
      for (const field of fields) field.dispatchEvent(new Event("input", { bubbles: true }));
      for (const field of choiceFields(form)) {
        field.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
  }

  // What this page says about the copies: drop what is over, another person's and, unless the
  // page says the text was not sent, the copy of the form just sent.
  const mode = body.dataset.keptTyping || "";
  function settle() {
    for (let i = store.length - 1; i >= 0; i--) {
      const key = store.key(i);
      if (!key?.startsWith(TAKEN)) continue;
      let taken;
      try {
        taken = JSON.parse(store.getItem(key));
      } catch {
        taken = null;
      }
      const over = !taken || !(Date.now() - taken.at < KEPT_FOR_MS);
      if (over || mode === "forget-all" || (person && taken.person !== person)) {
        store.removeItem(key);
      }
    }
    let keptJustNow = false;
    for (const [key, copy] of copies()) {
      const over = !copy || !(Date.now() - copy.at < KEPT_FOR_MS);
      if (over || mode === "forget-all" || (person && copy.person !== person)) {
        store.removeItem(key);
      } else if (copy.sent && mode === "not-sent") {
        store.setItem(key, JSON.stringify({ ...copy, sent: false }));
        keptJustNow = true;
      } else if (copy.sent) {
        // Taken, or refused and shown again by the page ("refused": nothing was written, so
        // nothing to keep from being sent twice).
        store.removeItem(key);
        if (mode !== "refused") rememberTaken(key, copy.fields);
      }
    }
    if (keptJustNow) {
      for (const note of document.querySelectorAll("[data-kept-typing-note]")) note.hidden = false;
    }
  }
  settle();

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
    const signIn = [...signedOut.querySelectorAll("a[href]")].find((link) => {
      const to = new URL(link.getAttribute("href"), location.href);
      return to.origin === location.origin && to.pathname === body.dataset.signIn;
    });
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
  function leadsToSignIn(xhr) {
    const to = xhr.getResponseHeader("HX-Redirect");
    const signIn = body.dataset.signIn;
    return Boolean(to && signIn && new URL(to, location.href).pathname === signIn);
  }
  document.addEventListener("htmx:beforeOnLoad", (event) => {
    if (!leadsToSignIn(event.detail.xhr)) return;
    for (const form of document.querySelectorAll("form")) {
      const sends = form.method === "post" || form.hasAttribute("hx-post");
      const typed = textFields(form).some((field) => field.value !== field.defaultValue);
      if (sends && typed) keep(form, false);
    }
  });

  // An htmx form sent and taken (2xx): a copy kept from an earlier failed send of it goes, so
  // that it cannot come back after the text was sent.
  document.addEventListener("htmx:afterRequest", (event) => {
    const { xhr, elt, requestConfig } = event.detail;
    if (!(xhr.status >= 200 && xhr.status < 300) || leadsToSignIn(xhr)) return;
    if (!requestConfig || requestConfig.verb === "get") return; // a look-up sends nothing
    const form = elt?.closest?.("form");
    if (!form) return;
    store.removeItem(keyOf(form));
    rememberTaken(keyOf(form), textFields(form).map((field) => [field.name, field.value]));
  });

  // Put a kept copy back into its form: only a signed-in person's own, and only into fields
  // the person has not changed since the page came (empty, or as the server filled them). Done
  // once htmx has taken the page (so that the text put back makes its look-ups, like typing),
  // and for a form htmx brings in later (a comment's edit form).
  const back = body.dataset.typingBack || "";
  const discard = body.dataset.typingDiscard || "";
  const changed = body.dataset.typingChanged || "";
  const show = body.dataset.typingShow || "";

  function noteBefore(form, text) {
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
      said.textContent = text; // a moment after the region appears, so that it is read out
    }, 50);
    return [note, button];
  }

  function restore(form) {
    served(form); // as the page served it, before anything below changes a field
    clearIfTaken(form);
    const key = keyOf(form);
    const raw = store.getItem(key);
    if (!raw) return;
    let copy;
    try {
      copy = JSON.parse(raw);
    } catch {
      store.removeItem(key);
      return;
    }
    if (copy.sent || copy.person !== person) return;
    const wanted = new Map();
    for (const [name, value] of copy.fields) {
      wanted.set(name, [...(wanted.get(name) || []), value]);
    }
    const filling = [];
    for (const field of textFields(form)) {
      const value = wanted.get(field.name)?.shift();
      if (value !== undefined) filling.push([field, value, field.value]);
    }
    const untouched = filling.every(
      ([field, , now]) => now === "" || now === field.defaultValue,
    );
    const changes = filling.some(([, value, now]) => value !== now);
    store.removeItem(key);
    if (!untouched || !changes) return;

    if (copy.served !== served(form)) {
      // The page serves another version of what the form edits: the text stays out of the
      // form, shown to copy from.
      const [note, button] = noteBefore(form, changed);
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = show;
      const text = document.createElement("textarea");
      text.readOnly = true;
      text.rows = 6;
      text.setAttribute("aria-label", show);
      text.value = copy.fields
        .map(([, value]) => value)
        .filter((value) => value.trim())
        .join("\n\n");
      details.append(summary, text);
      button.before(details);
      button.addEventListener("click", () => note.remove());
      return;
    }

    for (const [field, value] of filling) {
      field.value = value;
      field.dispatchEvent(new Event("input", { bubbles: true }));
    }
    const choicesBack = Array.isArray(copy.choices) && choicesAsServed(form);
    if (choicesBack) choose(form, copy.choices);
    const [note, button] = noteBefore(form, back);
    button.addEventListener("click", () => {
      if (choicesBack) chooseAsServed(form);
      for (const [field, , before] of filling) {
        field.value = before;
        field.dispatchEvent(new Event("input", { bubbles: true }));
      }
      note.remove();
      filling[0]?.[0].focus();
    });
  }

  function restoreIn(root) {
    if (!person || !root) return;
    const forms = root instanceof HTMLFormElement ? [root] : root.querySelectorAll?.("form");
    for (const form of forms || []) restore(form);
  }
  if (window.htmx) {
    window.htmx.onLoad(restoreIn); // the page once htmx has taken it, then what it swaps in
  } else {
    document.addEventListener("DOMContentLoaded", () => restoreIn(document.body));
  }
  // A page shown again from the browser's back-forward cache runs no script anew: what it says
  // about the copies, and putting them back, is done again.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    settle();
    restoreIn(document.body);
  });
})();
