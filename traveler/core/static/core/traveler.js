/* Traveler's shell: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    // Navigation drawer on narrow screens.
    var toggle = document.querySelector("[data-nav-toggle]");
    function setNav(open) {
      document.body.classList.toggle("nav-open", open);
      if (toggle) toggle.setAttribute("aria-expanded", open ? "true" : "false");
    }
    if (toggle) {
      toggle.addEventListener("click", function () {
        var open = !document.body.classList.contains("nav-open");
        setNav(open);
        if (open) {
          var first = document.querySelector("#sidebar a");
          if (first) first.focus();
        }
      });
    }
    document.addEventListener("click", function (e) {
      if (document.body.classList.contains("nav-open") && e.target.classList.contains("layout")) setNav(false);
    });

    // A scroller that holds the current item (a route's current step) opens scrolled to it, so on a
    // narrow screen the steps ahead are in view rather than cut off.
    function revealCurrent(scope) {
      scope.querySelectorAll(".scroll-x, .table-scroll").forEach(function (box) {
        var cur = box.querySelector("[aria-current]");
        if (!cur || box.scrollWidth <= box.clientWidth) return;
        var offset = cur.getBoundingClientRect().left - box.getBoundingClientRect().left + box.scrollLeft;
        box.scrollLeft = Math.max(0, offset - (box.clientWidth - cur.offsetWidth) / 2);
      });
    }
    revealCurrent(document);
    document.addEventListener("htmx:afterSettle", function (e) { revealCurrent(e.target); });

    // The tenant select switches as soon as a tenant is chosen.
    document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.requestSubmit ? sel.form.requestSubmit() : sel.form.submit(); });
    });

    // Copy buttons and select-on-focus fields (the one-time API token).
    document.querySelectorAll("[data-copy]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        var field = document.querySelector(btn.getAttribute("data-copy"));
        if (!field) return;
        field.select();
        var done = function () { btn.textContent = "Copied"; };
        if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(field.value).then(done);
        else { document.execCommand("copy"); done(); }
      });
    });
    document.querySelectorAll("[data-select-on-focus]").forEach(function (f) {
      f.addEventListener("focus", function () { f.select(); });
    });
    document.querySelectorAll("[data-back]").forEach(function (b) {
      b.addEventListener("click", function () { history.back(); });
    });
  });

  document.addEventListener("keydown", function (e) {
    // "/" jumps to the page's search box; Escape closes the navigation drawer.
    var t = e.target;
    var typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
    if (e.key === "/" && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      var search = document.querySelector("[data-search]");
      if (search) { e.preventDefault(); search.focus(); search.select(); }
    } else if (e.key === "Escape" && document.body.classList.contains("nav-open")) {
      document.body.classList.remove("nav-open");
      var toggle = document.querySelector("[data-nav-toggle]");
      if (toggle) { toggle.setAttribute("aria-expanded", "false"); toggle.focus(); }
    }
  });
})();
