// A group's content rules pages. (1) A filter's or note's reply is previewed beside its text as it is typed: the
// server renders it (GET <form data-preview-url>?text=...&media_type=...) with the bot's own pieces, and the answer
// replaces the preview. (2) The "test a message" box is sent without leaving the page (POST with X-Fragment: 1) and
// the server's answer fills the result region. (3) The locks table marks a row as locked as its box is ticked.
// Without this script every form still works, after a round trip.
(function () {
  "use strict";
  var DELAY_MS = 300;
  if (typeof window.fetch === "undefined") {
    return;
  }

  function previewReplies(form) {
    var text = form.elements.text;
    var media = form.elements.media_type;
    var target = form.querySelector(".tg-preview");
    if (!text || !target) {
      return;
    }
    var timer = null;
    var asked = 0;

    function refresh() {
      timer = null;
      var number = ++asked;
      var url = form.dataset.previewUrl + "?text=" + encodeURIComponent(text.value) +
                (media && media.value ? "&media_type=" + encodeURIComponent(media.value) : "");
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

    function later() {
      if (timer !== null) {
        window.clearTimeout(timer);
      }
      timer = window.setTimeout(refresh, DELAY_MS);
    }

    text.addEventListener("input", later);
    if (media) {
      media.addEventListener("change", later);
    }
  }

  function testBox(form) {
    var target = document.getElementById("test-result");
    if (!target) {
      return;
    }
    var asked = 0;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var number = ++asked;
      var button = form.querySelector("button[type=submit]");
      target.setAttribute("aria-busy", "true");
      if (button) {
        button.disabled = true;
      }
      window.fetch(form.action, {
        method: "POST", credentials: "same-origin", body: new window.FormData(form),
        headers: { Accept: "text/html", "X-Fragment": "1" }
      })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (response.status >= 500 || type.indexOf("text/html") !== 0) {
            return "<div class=\"errornote\" role=\"alert\"><p>The test could not be run (" + response.status +
                   "). Try again shortly.</p></div>";
          }
          return response.text();
        })
        .then(function (html) {
          if (number === asked) {
            target.innerHTML = html;
            target.dataset.updated = String(number);
          }
        })
        .catch(function () {
          target.innerHTML = "<div class=\"errornote\" role=\"alert\"><p>The dashboard could not be reached.</p></div>";
        })
        .then(function () {
          target.removeAttribute("aria-busy");
          if (button) {
            button.disabled = false;
          }
        });
    });
  }

  function locksTable(table) {
    table.addEventListener("change", function (event) {
      var box = event.target;
      if (box.type === "checkbox" && /_locked$/.test(box.name)) {
        var row = box.closest("tr");
        if (row) {
          row.classList.toggle("locked", box.checked);
        }
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form.reply-form[data-preview-url]"), previewReplies);
  var test = document.getElementById("test-form");
  if (test) {
    testBox(test);
  }
  var locks = document.querySelector("table.locks-table");
  if (locks) {
    locksTable(locks);
  }
})();
