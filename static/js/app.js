// serviceideas: the only script of our own. htmx does the rest; pages work without either.
// When an htmx request fails (no swap for 4xx/5xx other than 409/422), say so where people look.
document.addEventListener("htmx:responseError", (event) => {
  const box = document.getElementById("request-error");
  if (!box) return;
  const status = event.detail.xhr.status;
  box.textContent =
    status === 403
      ? "You do not have access to that action."
      : status === 429
        ? "Too many attempts. Please wait a minute."
        : `That did not work (error ${status}). Reload the page and try again.`;
  box.hidden = false;
});
document.addEventListener("htmx:sendError", () => {
  const box = document.getElementById("request-error");
  if (!box) return;
  box.textContent = "The server could not be reached. Check your connection and try again.";
  box.hidden = false;
});
