// Remedy's own script: as little as possible, loaded from this origin only
// (the Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  // A revealed identity is gone when the user leaves the page: clear it
  // before the browser could keep the page for its back button.
  window.addEventListener("pagehide", function () {
    var el = document.getElementById("revealed");
    if (el) { el.textContent = ""; }
  });
  // After htmx swaps the page's main part, move the focus there so that a
  // screen reader announces the new state.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail && e.detail.target && e.detail.target.id === "main") {
      var main = document.getElementById("main");
      if (main) { main.focus({ preventScroll: true }); }
    }
  });
})();
