/* The operator station: live in/out-of-spec hints, the keys, and where the focus goes.
   The page works without this file (plain forms); the server decides what is in spec.

   Keys: Enter in the scan field shows the part; Enter in a value moves to the next one and
   advances from the last; F2 or Ctrl+Enter advances from anywhere; Esc goes back to the scan field.
   An out-of-tolerance value comes back empty once (the server asks to re-enter it): typing it again
   and Enter records it, exactly like any other value, so the keys stay the same. */
(function () {
  "use strict";

  var NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

  function parse(text) {
    var v = text.trim().replace(",", ".");
    if (v === "") return null;
    return NUMBER.test(v) ? parseFloat(v) : NaN;
  }

  // One numeric measurement: colour and words, from data-lower / data-upper.
  function check(box) {
    var input = box.querySelector("input");
    var out = box.querySelector(".measure-feedback");
    if (!input || !out) return;
    var lower = parseFloat(box.getAttribute("data-lower"));
    var upper = parseFloat(box.getAttribute("data-upper"));
    var v = parse(input.value);
    var state = "", text = "";
    if (v === null) {
      state = ""; text = "";
    } else if (isNaN(v)) {
      state = "invalid"; text = "✗ Not a number";
    } else if (v < lower || v > upper) {
      state = "out";
      text = "✗ OUT OF SPEC: " + (v < lower ? "below " + box.getAttribute("data-lower")
                                           : "above " + box.getAttribute("data-upper"));
      // The second entry of a value the station asked to confirm: say what advancing now does.
      var first = box.getAttribute("data-confirm");
      if (first !== null && parse(first) === v) text += " · same as entered before: advancing records it";
    } else {
      state = "in"; text = "✓ In spec";
    }
    box.setAttribute("data-state", state);
    out.textContent = text;
  }

  function equipmentStatus(select) {
    var box = document.querySelector("[data-equipment-status]");
    if (!box) return;
    var opt = select.options[select.selectedIndex];
    box.textContent = "";
    if (!opt || !opt.value) return;
    var state = opt.getAttribute("data-state");
    if (state !== "overdue" && state !== "due_soon") return;  // the option's text says "Calibrated"
    var badge = document.createElement("span");
    badge.className = "badge " + (state === "overdue" ? "badge-dead" : "badge-queued");
    badge.textContent = (state === "overdue" ? "⚠ " : "") + opt.getAttribute("data-label") +
      (state === "overdue" ? ": the advance will be blocked" : "");
    box.appendChild(badge);
  }

  // The fields Enter walks through: each numeric input, and each pass/fail pair once.
  function stops(form) {
    var out = [];
    var seen = {};
    form.querySelectorAll("[data-measure-input]").forEach(function (el) {
      if (el.type === "radio") {
        if (seen[el.name]) return;
        seen[el.name] = true;
        var checked = form.querySelector('input[name="' + el.name + '"]:checked');
        out.push(checked || el);
      } else {
        out.push(el);
      }
    });
    return out;
  }

  function scanField() { return document.getElementById("scan"); }

  function focusScan(value) {
    var scan = scanField();
    if (!scan) return;
    if (value !== null && value !== undefined) scan.value = value;
    scan.focus();
    scan.select();
  }

  function advance() {
    var form = document.querySelector("[data-advance-form]");
    if (!form) return false;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
    return true;
  }

  // After a page load or an htmx swap: hints for values already there, and the focus where it belongs.
  function settle() {
    var result = document.getElementById("station-result");
    if (!result) return;
    result.querySelectorAll("[data-measure]").forEach(check);
    var select = result.querySelector("[data-equipment]");
    if (select) select.addEventListener("change", function () { equipmentStatus(select); });
    var focus = result.getAttribute("data-focus");
    // The autofocus attributes are for the page without this file. htmx would focus them again when it
    // settles (20 ms after the swap), taking the focus from a value the operator has already moved on from.
    result.querySelectorAll("[autofocus]").forEach(function (el) { el.removeAttribute("autofocus"); });
    if (focus === "scan") {
      focusScan(result.getAttribute("data-scan-value"));
    } else if (focus) {
      var el = document.getElementById(focus);
      if (el) el.focus();
    }
  }

  document.addEventListener("input", function (e) {
    var box = e.target.closest && e.target.closest("[data-measure]");
    if (box) check(box);
  });

  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.key === "F2" || (e.key === "Enter" && (e.ctrlKey || e.metaKey))) {
      if (advance()) e.preventDefault();
      return;
    }
    if (e.key === "Escape") {
      if (document.body.classList.contains("nav-open")) return;  // the shell closes the menu first
      e.preventDefault();
      focusScan(null);
      return;
    }
    if (e.key === "Enter" && t && t.hasAttribute && t.hasAttribute("data-measure-input")) {
      var form = t.form;
      var list = stops(form);
      var i = list.findIndex(function (el) { return el === t || (el.type === "radio" && el.name === t.name); });
      if (i >= 0 && i < list.length - 1) {
        e.preventDefault();
        list[i + 1].focus();
        if (list[i + 1].select) list[i + 1].select();
      } else if (t.type === "radio") {
        e.preventDefault();  // Enter on the last pass/fail advances, like Enter on the last value
        advance();
      }
    }
  });

  // htmx does not swap 4xx answers by default; the station's answers are pages to show (unknown
  // serial 404, invalid values 400, blocked or changed part 409).
  document.addEventListener("htmx:beforeSwap", function (e) {
    var target = e.detail.target;
    var status = e.detail.xhr.status;
    if (target && target.id === "station-result" && (status === 400 || status === 404 || status === 409)) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  // On swap, not on settle (20 ms later): keys typed right after a scan go to the first value.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (document.getElementById("station-result")) settle();
  });

  if (document.readyState !== "loading") settle();
  else document.addEventListener("DOMContentLoaded", settle);
})();
