// Every <time datetime="..."> on the page, in the viewer's local time with its zone ("2 Dec 2026, 02:18:17 CET").
// The server writes UTC; this rewrites it. Live rows call window.dashboardLocalTime(element) as they arrive.
(function () {
  "use strict";
  var format = null;
  try {
    // Components, not dateStyle/timeStyle: those cannot be combined with timeZoneName.
    format = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", hour: "2-digit",
                                                  minute: "2-digit", second: "2-digit", timeZoneName: "short" });
  } catch (error) {
    format = null;
  }

  function localize(root) {
    if (!format || !root) {
      return;
    }
    var times = root.tagName === "TIME" ? [root] : root.querySelectorAll("time[datetime]");
    Array.prototype.forEach.call(times, function (element) {
      var moment = new Date(element.getAttribute("datetime"));
      if (!isNaN(moment.getTime())) {
        element.title = element.title || element.textContent;
        element.textContent = format.format(moment);
      }
    });
  }

  window.dashboardLocalTime = localize;
  localize(document.body);
})();
