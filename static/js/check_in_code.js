// The code screen at the door: swap in the next code and its QR code when the current one
// expires (GET /api/v1/events/{id}/code). Without JavaScript the page reloads itself.
(function () {
  "use strict";
  var codeBox = document.getElementById("check-in-code");
  var qrBox = document.getElementById("check-in-qr");
  if (!codeBox || !qrBox || !window.fetch) return;

  function schedule(expiresAt) {
    var wait = new Date(expiresAt).getTime() - Date.now() + 300;
    setTimeout(next, Math.max(wait, 1000));
  }

  function next() {
    fetch(codeBox.dataset.codeUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 409) {
          // Check-in closed meanwhile: the page says so.
          location.reload();
          return null;
        }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (!data) { setTimeout(next, 3000); return; }
        codeBox.textContent = data.code;
        // The server's SVG of its own URL (segno), nothing a user wrote.
        qrBox.innerHTML = data.qr_svg;
        qrBox.dataset.url = data.url;
        schedule(data.expires_at);
      })
      .catch(function () { setTimeout(next, 3000); });
  }

  schedule(codeBox.dataset.expiresAt);
})();
