// Guichet console: small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    // Bring the reader to what needs attention: a stale-form notice or a form's errors.
    var alert = document.getElementById("stale-notice") || document.getElementById("form-errors") ||
      document.getElementById("sign-in-error");
    if (alert) {
      alert.setAttribute("tabindex", "-1");
      alert.focus();
    }
  });
})();
