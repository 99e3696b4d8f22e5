// Live counts on the organizer's door page and code screen: checked in / confirmed / waiting.
// Polls a small JSON endpoint that the server caches for a few seconds (GET
// /api/v1/events/{id}/checkins/counts). Polling, not server-sent events: gunicorn's few
// threads would each be held by an open stream, while a poll costs one short request.
(function () {
  "use strict";
  var box = document.querySelector(".live-counts[data-counts-url]");
  if (!box || !window.fetch) return;
  var POLL_MS = 5000;

  function refresh() {
    if (document.hidden) return;
    fetch(box.dataset.countsUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (counts) {
        if (!counts) return;
        box.querySelectorAll("[data-count]").forEach(function (element) {
          var value = counts[element.dataset.count];
          if (value !== undefined && String(value) !== element.textContent) element.textContent = value;
        });
      })
      .catch(function () { /* the next poll tries again */ });
  }

  setInterval(refresh, POLL_MS);
  document.addEventListener("visibilitychange", refresh);
})();
