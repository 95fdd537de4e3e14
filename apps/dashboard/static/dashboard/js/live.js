// Live updates for a signed-in page (<body data-live-url="/ws/live">): new audit events are prepended to
// <ol id="live-feed">, stats update every [data-stat="<key>"], and <span id="live-status"> says (in words)
// whether the page is live. The socket authenticates with the access-token cookie. After a lost connection it
// reconnects with backoff and jitter and asks for what it missed ({"type": "resume", "after": <last sequence>}).
(function () {
  "use strict";
  var MAX_ITEMS = 50;
  var MAX_DELAY_MS = 30000;

  var body = document.body;
  var path = body && body.dataset.liveUrl;
  if (!path || typeof window.WebSocket === "undefined") {
    return;
  }
  var feed = document.getElementById("live-feed");
  var status = document.getElementById("live-status");
  var socket = null;
  var attempt = 0;
  var renewed = false;
  var stopped = false;
  var timer = null;
  var lastSequence = highestRenderedSequence();

  function highestRenderedSequence() {
    var highest = null;
    if (!feed) {
      return highest;
    }
    Array.prototype.forEach.call(feed.querySelectorAll("li[data-sequence]"), function (item) {
      var sequence = parseInt(item.dataset.sequence, 10);
      if (!isNaN(sequence) && (highest === null || sequence > highest)) {
        highest = sequence;
      }
    });
    return highest;
  }

  function setStatus(text, state) {
    if (status) {
      status.textContent = text;
      status.dataset.state = state;
    }
  }

  function socketUrl() {
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + window.location.host + path;
  }

  function connect() {
    timer = null;
    if (stopped) {
      return;
    }
    setStatus(attempt ? "Reconnecting…" : "Connecting…", "connecting");
    try {
      socket = new WebSocket(socketUrl());
    } catch (error) {
      retry();
      return;
    }
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", onClose);
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
    }
  }

  function onMessage(event) {
    var message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (message.type === "hello") {
      attempt = 0;
      renewed = false;
      setStatus("Live", "live");
      if (lastSequence !== null && message.audit) {
        send({ type: "resume", after: lastSequence });
      } else if (typeof message.latest_sequence === "number") {
        lastSequence = message.latest_sequence;
      }
    } else if (message.type === "audit") {
      addEvent(message.event, message.html);
    } else if (message.type === "stats") {
      showStats(message.stats || {});
    } else if (message.type === "error" && message.code === "resume_incomplete") {
      setStatus("Live — some updates were missed; reload the page to see them", "stale");
    }
  }

  function onClose(event) {
    socket = null;
    if (stopped) {
      return;
    }
    if (event.code === 4403) {
      stop("Live updates are not available to you");
    } else if (event.code === 4401) {
      renewSignIn();
    } else {
      retry();
    }
  }

  // The access token is short-lived; a page request renews it from the refresh cookie (or redirects to the
  // login page when the session is over).
  function renewSignIn() {
    if (renewed || typeof window.fetch === "undefined") {
      stop("Signed out — reload the page to sign in again");
      return;
    }
    renewed = true;
    setStatus("Renewing sign-in…", "connecting");
    window.fetch(window.location.pathname, { credentials: "same-origin", redirect: "manual",
                                             headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
          stop("Signed out — reload the page to sign in again");
        } else {
          connect();
        }
      })
      .catch(retry);
  }

  function retry() {
    if (stopped || timer !== null) {
      return;
    }
    var base = Math.min(MAX_DELAY_MS, 500 * Math.pow(2, attempt));
    var delay = Math.round(base * (0.5 + Math.random()));
    attempt += 1;
    setStatus("Disconnected — retrying in " + Math.max(1, Math.round(delay / 1000)) + " s", "offline");
    timer = window.setTimeout(connect, delay);
  }

  function stop(text) {
    stopped = true;
    setStatus(text, "off");
  }

  function addEvent(event, html) {
    if (!event || typeof event.sequence !== "number") {
      return;
    }
    if (lastSequence === null || event.sequence > lastSequence) {
      lastSequence = event.sequence;
    }
    if (!feed || feed.querySelector('li[data-sequence="' + event.sequence + '"]')) {
      return;
    }
    // The server renders the row with the overview's own partial (includes/feed_item.html).
    var holder = document.createElement("template");
    holder.innerHTML = html || "";
    var item = holder.content.firstElementChild;
    if (!item || item.tagName !== "LI") {
      return;
    }
    item.classList.add("live-new");
    if (window.dashboardLocalTime) {
      window.dashboardLocalTime(item);
    }
    // Newest first: before the first item with a lower sequence (a resume can deliver older events late).
    var before = null;
    var items = feed.querySelectorAll("li[data-sequence]");
    for (var index = 0; index < items.length; index += 1) {
      if (parseInt(items[index].dataset.sequence, 10) < event.sequence) {
        before = items[index];
        break;
      }
    }
    feed.insertBefore(item, before);
    var empty = feed.querySelector("li.empty");
    if (empty) {
      empty.remove();
    }
    var all = feed.querySelectorAll("li[data-sequence]");
    for (var extra = all.length - 1; extra >= MAX_ITEMS; extra -= 1) {
      all[extra].remove();
    }
  }

  function showStats(stats) {
    Object.keys(stats).forEach(function (key) {
      var value = stats[key];
      Array.prototype.forEach.call(document.querySelectorAll('[data-stat="' + key + '"]'), function (element) {
        element.textContent = String(value);
      });
    });
  }

  window.addEventListener("online", function () {
    if (!socket && !stopped) {
      if (timer !== null) {
        window.clearTimeout(timer);
        timer = null;
      }
      connect();
    }
  });
  window.addEventListener("pagehide", function () {
    stopped = true;
    if (socket) {
      socket.close(1000);
    }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {  // back from the back/forward cache: pick up where the page left off
      stopped = false;
      attempt = 0;
      connect();
    }
  });
  connect();
})();
