// The group page's Protection section: as a welcome or goodbye text is typed, its preview (rendered by the server
// with the bot's own renderer: GET <form data-preview-url>?kind=...&text=...) replaces the one beside it. Without
// this script the form's "Preview the messages" button shows the same thing after a round trip.
(function () {
  "use strict";
  var DELAY_MS = 300;
  var form = document.getElementById("protection-form");
  if (!form || !form.dataset.previewUrl || typeof window.fetch === "undefined") {
    return;
  }

  function watch(kind) {
    var field = form.elements[kind + "_text"];
    var target = document.getElementById(kind + "-preview");
    if (!field || !target) {
      return;
    }
    var timer = null;
    var asked = 0;

    function refresh() {
      timer = null;
      var number = ++asked;
      var url = form.dataset.previewUrl + "?kind=" + encodeURIComponent(kind) + "&text=" +
                encodeURIComponent(field.value);
      window.fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html !== null && number === asked) {  // a slower, older answer never replaces a newer one
            target.innerHTML = html;
            target.dataset.updated = String(number);
          }
        })
        .catch(function () { /* the server-rendered preview stays */ });
    }

    field.addEventListener("input", function () {
      if (timer !== null) {
        window.clearTimeout(timer);
      }
      timer = window.setTimeout(refresh, DELAY_MS);
    });
  }

  watch("welcome");
  watch("goodbye");
})();
