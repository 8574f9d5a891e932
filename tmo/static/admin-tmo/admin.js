// Django's SelectFilter2 (the role picker) labels its search icons with aria-label on a span with
// no role, which ARIA does not allow; as images, their labels are valid and read out. It builds
// the widget on window load, so this runs just after every load handler.
window.addEventListener("load", function () {
  window.setTimeout(function () {
    document.querySelectorAll(".selector .help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }, 0);
});
