// The API's documentation page (templates/api/docs.html): Swagger UI reads the OpenAPI document
// named by the page. A file of its own, not inline script, so the Content-Security-Policy needs
// no 'unsafe-inline'.
const root = document.getElementById("swagger-ui");
const dark = window.matchMedia("(prefers-color-scheme: dark)");
const theme = () => document.documentElement.classList.toggle("dark-mode", dark.matches);
theme();
dark.addEventListener("change", theme);
window.ui = SwaggerUIBundle({
  url: root.dataset.document,
  domNode: root,
  deepLinking: true,
  // The Authorize button's token stays in the page's memory, never in the browser's storage.
  persistAuthorization: false,
  tryItOutEnabled: false,
  // No badge from the public validator: the page calls nothing but this site.
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
});
