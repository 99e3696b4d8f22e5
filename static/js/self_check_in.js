// Self check-in: when the event checks that the student is in the room, ask the phone for
// its position on submit and send it with the code. The position is used for that one check
// and never stored. Without this file (or without permission) the server says what it needs.
(function () {
  "use strict";
  var form = document.getElementById("self-check-in");
  if (!form || !form.dataset.needsLocation || !navigator.geolocation) return;
  var sending = false;

  form.addEventListener("submit", function (event) {
    if (sending) return;
    event.preventDefault();
    sending = true;
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    button.textContent = "Finding your location…";
    navigator.geolocation.getCurrentPosition(
      function (position) {
        form.elements.latitude.value = position.coords.latitude.toFixed(6);
        form.elements.longitude.value = position.coords.longitude.toFixed(6);
        form.elements.accuracy.value = Math.round(position.coords.accuracy);
        form.submit();
      },
      function () { form.submit(); },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 0 }
    );
  });
})();
