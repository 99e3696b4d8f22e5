// Progressive enhancement for the search page: suggestions while typing and "use my
// position". The page works without this file.
(function () {
  "use strict";
  // On a desktop the filters are a sidebar: show them open.
  var filters = document.querySelector(".search-layout .filters");
  if (filters && window.matchMedia && window.matchMedia("(min-width: 64rem)").matches) {
    filters.open = true;
  }
  var box = document.getElementById("q");
  var list = document.getElementById("suggestions");
  if (box && list && window.fetch) {
    var timer = null;
    var lastQuery = "";
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var query = box.value.trim();
        if (query.length < 2 || query === lastQuery) return;
        lastQuery = query;
        fetch(box.dataset.suggestUrl + "?q=" + encodeURIComponent(query), {
          headers: { Accept: "application/json" },
        })
          .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
          .then(function (data) {
            list.replaceChildren();
            data.suggestions.forEach(function (title) {
              var option = document.createElement("option");
              option.value = title;
              list.appendChild(option);
            });
          })
          .catch(function () { /* suggestions are a nicety */ });
      }, 150);
    });
  }

  var button = document.getElementById("use-position");
  if (button && navigator.geolocation) {
    button.hidden = false;
    button.addEventListener("click", function () {
      button.textContent = "Finding you…";
      navigator.geolocation.getCurrentPosition(
        function (position) {
          document.getElementById("lat").value = position.coords.latitude.toFixed(5);
          document.getElementById("lng").value = position.coords.longitude.toFixed(5);
          document.getElementById("near").value = "";
          button.textContent = "Using your position";
        },
        function () { button.textContent = "Position unavailable"; },
        { timeout: 10000, maximumAge: 60000 }
      );
    });
  }
})();
