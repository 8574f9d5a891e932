// Loaded as a module from our own static files: no inline script, so the CSP can forbid it.
import { initAll } from "/static/govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
