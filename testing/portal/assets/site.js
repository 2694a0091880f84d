// Riverside Council demo portal. Progressive enhancement only: every page works without it.
(function () {
  "use strict";
  document.documentElement.dataset.js = "ok";

  // Gallery pages: report when every picture has loaded (tests and people can see it).
  var gallery = document.querySelector("[data-expected-images]");
  var status = document.getElementById("load-status");
  if (gallery && status) {
    var imgs = gallery.querySelectorAll("img");
    var done = 0, failed = 0;
    var report = function () {
      if (done + failed === imgs.length) {
        status.textContent = failed ? failed + " of " + imgs.length + " pictures could not be loaded." : "All " + imgs.length + " pictures loaded.";
        document.documentElement.dataset.images = failed ? "failed" : "loaded";
      }
    };
    imgs.forEach(function (img) {
      if (img.complete && img.naturalWidth > 0) { done++; return; }
      img.addEventListener("load", function () { done++; report(); });
      img.addEventListener("error", function () { failed++; report(); });
    });
    report();
  }

  // Move focus to the error summary after a failed form submission.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }

  // Live updates: server-sent events.
  var events = document.getElementById("events");
  if (events && window.EventSource) {
    var es = new EventSource("/events");
    es.addEventListener("open", function () { document.documentElement.dataset.events = "open"; });
    es.addEventListener("update", function (e) {
      var li = document.createElement("li");
      try { li.textContent = JSON.parse(e.data).text; } catch (err) { li.textContent = e.data; }
      events.appendChild(li);
      while (events.children.length > 20) { events.removeChild(events.firstChild); }
    });
  }

  // The repairs desk: a websocket echo.
  var chat = document.getElementById("chat");
  if (chat && window.WebSocket) {
    var log = document.getElementById("chat-log");
    var input = document.getElementById("chat-text");
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
    ws.addEventListener("open", function () { document.documentElement.dataset.ws = "open"; });
    ws.addEventListener("close", function () { document.documentElement.dataset.ws = "closed"; });
    ws.addEventListener("message", function (e) {
      var li = document.createElement("li");
      li.textContent = "Desk: " + e.data;
      log.appendChild(li);
    });
    chat.addEventListener("submit", function (e) {
      e.preventDefault();
      if (input.value && ws.readyState === WebSocket.OPEN) { ws.send(input.value); input.value = ""; }
    });
  }
})();
