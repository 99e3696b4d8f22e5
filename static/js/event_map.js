// The map view (events/search_map.html): the search's events as clustered markers on the
// campus map. Progressive enhancement: the list below the map holds the same events, and
// the map stays hidden when this file, Leaflet or the data cannot load.
(function () {
  "use strict";
  var element = document.getElementById("event-map");
  var data = document.getElementById("event-map-markers");
  if (!element || !data || !window.L || !L.markerClusterGroup) return;
  var markers = JSON.parse(data.textContent);
  // Brookings Hall, the middle of the Danforth campus.
  var campus = [38.6480, -90.3050];
  element.hidden = false;
  var map = L.map(element, { scrollWheelZoom: false, maxZoom: 19 }).setView(campus, 15);
  map.getContainer().setAttribute("aria-label", "Map of the events below; each marker is a link to its event");
  if (element.dataset.tiles) {
    L.tileLayer(element.dataset.tiles, {
      maxZoom: 19,
      attribution: element.dataset.attribution,
    }).addTo(map);
  }
  var pin = L.divIcon({ className: "map-pin", iconSize: [22, 22], iconAnchor: [11, 22], popupAnchor: [0, -20] });
  var clusters = L.markerClusterGroup({
    showCoverageOnHover: false,
    iconCreateFunction: function (cluster) {
      var count = cluster.getChildCount();
      return L.divIcon({
        className: "map-cluster",
        iconSize: [40, 40],
        html: "<span>" + count + '<span class="visually-hidden"> events here; press Enter to zoom in</span></span>',
      });
    },
  });
  markers.forEach(function (item) {
    var marker = L.marker([item.lat, item.lng], { icon: pin, title: item.title, keyboard: true });
    var popup = document.createElement("div");
    var link = document.createElement("a");
    link.href = item.url;
    link.textContent = item.title;
    var when = document.createElement("p");
    when.textContent = item.when + " · " + item.place;
    popup.append(link, when);
    marker.bindPopup(popup);
    marker.on("add", function () {
      var icon = marker.getElement();
      if (icon) {
        icon.setAttribute("role", "button");
        icon.setAttribute("aria-label", item.title + ", " + item.when);
      }
    });
    clusters.addLayer(marker);
  });
  map.addLayer(clusters);
  if (markers.length) {
    map.fitBounds(clusters.getBounds(), { padding: [24, 24], maxZoom: 17 });
  }
})();
