// The door page: roster results while the organizer types. The page works without this file
// (the search form submits); live counts are static/js/live_counts.js.
(function () {
  "use strict";
  var form = document.querySelector("form.door-search[data-partial-url]");
  if (!form || !window.fetch) return;
  var box = form.querySelector("input[name=q]");
  var timer = null;
  var lastQuery = box.value.trim();

  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var query = box.value.trim();
      if (query === lastQuery) return;
      lastQuery = query;
      var url = form.dataset.partialUrl + "?partial=1&q=" + encodeURIComponent(query);
      fetch(url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html === null || query !== lastQuery) return;
          var results = document.getElementById("door-results");
          var template = document.createElement("template");
          template.innerHTML = html.trim();
          results.replaceWith(template.content.firstElementChild);
          history.replaceState(null, "", query ? "?q=" + encodeURIComponent(query) : location.pathname);
        })
        .catch(function () { /* the Find button still works */ });
    }, 200);
  });
})();
