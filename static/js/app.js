// serviceideas: the only script of our own. htmx does the rest; pages work without either.
// When an htmx request fails (no swap for 4xx/5xx other than 409/422), say so where people look.
document.addEventListener("htmx:responseError", (event) => {
  const box = document.getElementById("request-error");
  if (!box) return;
  // The words are the page's (templates/base.html), in the reader's language.
  const status = event.detail.xhr.status;
  box.textContent =
    status === 403
      ? box.dataset.forbidden
      : status === 429
        ? box.dataset.tooMany
        : box.dataset.failed.replace("{status}", String(status));
  box.hidden = false;
});
document.addEventListener("htmx:sendError", () => {
  const box = document.getElementById("request-error");
  if (!box) return;
  box.textContent = box.dataset.unreachable;
  box.hidden = false;
});

// A plain form (not htmx's, which uses hx-disabled-elt) is sent once: its buttons go off as it
// leaves (a moment later, once the browser has read which button was pressed), and come back
// when the page is shown again from history, or after a while if no page came (a download).
// The server refuses a second copy too (serviceideas/submissions.py).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || !(form instanceof HTMLFormElement)) return;
  if (form.method !== "post" || form.hasAttribute("hx-post") || form.target) return;
  const buttons = [...form.querySelectorAll("button:not([type]), [type='submit']")].filter(
    (button) => !button.disabled,
  );
  setTimeout(() => {
    for (const button of buttons) {
      button.disabled = true;
      button.dataset.sending = "";
    }
  }, 0);
  setTimeout(() => enableSentButtons(form), 10000);
});
function enableSentButtons(root) {
  for (const button of root.querySelectorAll("[data-sending]")) {
    button.disabled = false;
    delete button.dataset.sending;
  }
}
window.addEventListener("pageshow", (event) => {
  if (event.persisted) enableSentButtons(document);
});

// The review form shows only the fields the chosen step needs (a merge target for "merged",
// a date for "implemented"). Hidden groups are also disabled, so nothing in them is sent or
// reached by keyboard. Without this script every field shows, its label saying when it applies.
function showStepFields(form) {
  const step = form.querySelector("select[name='to']")?.value ?? "";
  for (const group of form.querySelectorAll("[data-needed-for]")) {
    const needed = group.dataset.neededFor.split(" ").includes(step);
    group.hidden = !needed;
    for (const input of group.querySelectorAll("input, select, textarea")) input.disabled = !needed;
  }
}
document.addEventListener("change", (event) => {
  const form = event.target.closest?.("form[data-step-fields]");
  if (form && event.target.name === "to") showStepFields(form);
});
function showStepFieldsIn(root) {
  for (const form of root.querySelectorAll("form[data-step-fields]")) showStepFields(form);
}
showStepFieldsIn(document); // deferred: the page is parsed by now
document.addEventListener("htmx:load", (event) => showStepFieldsIn(event.detail.elt));

// Focus and announcements after htmx swaps, so that focus never falls to the page body and a
// screen reader hears what changed. In the new content, in this order:
// - focus already placed there (htmx honours `autofocus`) stays;
// - an element marked `data-focus-after-swap` gets the focus (made focusable if need be);
// - a refused form's first field marked aria-invalid gets the focus (a screen reader then reads
//   its label and, through aria-describedby, its error);
// - otherwise, if the focus was lost with the old content, the new content itself takes it.
// All this only when the swap replaced the content that held the focus (see tookFocus).
// `data-announce` on new content reads out its text (or the attribute's value) through the
// page's live region, #announcer in base.html; other scripts call serviceideas.announce(text).
window.serviceideas = {
  announce(message) {
    const region = document.getElementById("announcer");
    if (!region || !message) return;
    region.textContent = "";
    // A new text node a moment later: the same message twice is read out twice.
    setTimeout(() => {
      region.textContent = message;
    }, 50);
  },
};

function focusOn(element) {
  if (!element.matches("a[href], button, input, select, textarea, [tabindex]")) {
    element.setAttribute("tabindex", "-1");
  }
  element.focus();
}

function within(root, selector) {
  return root.matches(selector) ? root : root.querySelector(selector);
}

// Requests whose swap replaces the content the person acted in (the focus was there, or they
// clicked or sent a form there, whose button may have gone off meanwhile). Only their swaps
// move the focus; a refresh on a timer (the bell) has no triggering event and never does.
const tookFocus = new WeakSet();
document.addEventListener("htmx:beforeSwap", (event) => {
  const { target, requestConfig, xhr } = event.detail;
  if (!target) return;
  const actedIn = requestConfig?.triggeringEvent && target.contains(requestConfig.elt);
  if (actedIn || target.contains(document.activeElement)) tookFocus.add(xhr);
});

document.addEventListener("htmx:afterSettle", (event) => {
  const root = event.target;
  if (!(root instanceof Element) || !root.isConnected || root === document.body) return;
  if (root.closest("#announcer")) return; // a message swapped into the live region itself
  for (const element of [root, ...root.querySelectorAll("[data-announce]")]) {
    if (!element.hasAttribute("data-announce")) continue;
    window.serviceideas.announce(element.dataset.announce || element.textContent.trim());
  }
  if (!tookFocus.has(event.detail.xhr)) return;
  const active = document.activeElement;
  if (active && active !== document.body && root.contains(active)) return;
  const marked = within(root, "[data-focus-after-swap]");
  const invalid = within(root, "[aria-invalid='true']");
  if (marked) {
    focusOn(marked);
  } else if (invalid) {
    focusOn(invalid);
  } else if (!active || active === document.body) {
    focusOn(root);
  }
});

// A page shown again with a refused form (sign-in, a new idea): the focus goes to the first
// field in error, whose label and message (aria-describedby) a screen reader then reads.
const firstInvalid = document.querySelector("main [aria-invalid='true']");
if (firstInvalid) focusOn(firstInvalid);
