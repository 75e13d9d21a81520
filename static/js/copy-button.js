// A "Copy" button beside a field shown once (a new API token): copies the field's text and says
// so. Hidden until this script runs, so a page without JavaScript shows only the field, whose
// text can still be selected and copied by hand.
for (const button of document.querySelectorAll("button[data-copy]")) {
  const field = document.getElementById(button.dataset.copy);
  if (!field) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    let copied = false;
    try {
      await navigator.clipboard.writeText(field.value);
      copied = true;
    } catch {
      field.select(); // no clipboard access (an insecure origin, a refusal): selected to copy by hand
    }
    const said = copied ? "Copied." : "Selected: press Ctrl+C (⌘C) to copy.";
    button.textContent = copied ? "Copied" : "Copy token";
    if (window.serviceideas && window.serviceideas.announce) window.serviceideas.announce(said);
  });
}
