// Live control charts: every <figure class="spc-live"> listens to its characteristic's server-sent
// events and, when new measurements are committed, fetches the chart's SVG again with the page's
// filters and swaps it in. No polling: the server pushes. Without JavaScript the page is unchanged.
(function () {
  "use strict";
  if (window.travelerSpcLive || !window.EventSource || !window.fetch) {
    return; // loaded once per page, however many charts include it
  }
  window.travelerSpcLive = true;

  var STATES = {
    connecting: ["badge badge-queued", "Connecting…", "Connecting to live updates."],
    live: ["badge badge-success", "Live", "The chart redraws itself when new measurements are recorded."],
    reconnecting: ["badge badge-queued", "Reconnecting…", "Live updates interrupted; reconnecting."],
    stale: ["badge badge-dead", "Not updated", "The chart could not be redrawn; reload the page."]
  };

  function start(figure) {
    var streamUrl = figure.getAttribute("data-stream-url");
    var svgUrl = figure.getAttribute("data-svg-url");
    if (!streamUrl || !svgUrl) {
      return;
    }
    var query = figure.getAttribute("data-query") || "";
    var status = document.createElement("p");
    status.className = "spc-live-status";
    status.setAttribute("role", "status");
    var badge = document.createElement("span");
    status.appendChild(badge);
    figure.insertAdjacentElement("afterend", status);
    var busy = false, again = false, interrupted = false, redraws = 0;

    function show(state) {
      var s = STATES[state];
      status.hidden = false;
      badge.className = s[0];
      badge.textContent = s[1];
      badge.title = s[2];
      figure.setAttribute("data-live", state);
    }

    function redraw() {
      if (busy) {
        again = true; // one more fetch once this one is done, for what was committed meanwhile
        return;
      }
      busy = true;
      fetch(svgUrl + (query ? "?" + query : ""), {credentials: "same-origin", headers: {Accept: "image/svg+xml"}})
        .then(function (r) {
          if (!r.ok) {
            throw new Error("HTTP " + r.status);
          }
          return r.text();
        })
        .then(function (text) {
          if (figure.hasAttribute("data-reload-when-charted") && text.indexOf("data-spc-message") === -1) {
            // The page had too few points for a chart: now there is one, with its violations,
            // limits and points, which only the whole page shows.
            window.location.reload();
            return;
          }
          figure.innerHTML = text; // the server's own SVG, its text escaped by the engine
          redraws += 1;
          figure.setAttribute("data-redraws", String(redraws));
          figure.dispatchEvent(new CustomEvent("spc:redrawn", {bubbles: true}));
        })
        .catch(function () {
          show("stale");
        })
        .finally(function () {
          busy = false;
          if (again) {
            again = false;
            redraw();
          }
        });
    }

    var source = null;

    function connect() {
      show("connecting");
      source = new EventSource(streamUrl);
      source.addEventListener("ready", function () {
        show("live");
        if (interrupted) {
          interrupted = false;
          redraw(); // measurements may have been recorded while the stream was down
        }
      });
      source.addEventListener("measurement", redraw);
      source.addEventListener("error", function () {
        if (source.readyState === EventSource.CLOSED) {
          status.hidden = true; // the server offers no live updates here (204): the chart stays as served
          figure.setAttribute("data-live", "off");
          return;
        }
        interrupted = true;
        show("reconnecting"); // EventSource retries by itself
      });
    }

    connect();
    window.addEventListener("pagehide", function () {
      source.close(); // the server ends the stream and frees its place at once
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) { // back from the browser's page cache: listen again, and catch up
        interrupted = true;
        connect();
      }
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("figure.spc-live"), start);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
