// The page-level lock-down of the Windows (WebView2) shell, injected into every document.
// It is best effort: a page can undo parts of it in its own frame. What it cannot do is
// listed in docs/kiosk-ui.md.
(function () {
  "use strict";
  var blockedCtrl = "rltnwpsoqujhd";
  function browserShortcut(e) {
    var k = (e.key || "").toLowerCase();
    if (/^f([1-9]|1[0-9]|2[0-4])$/.test(k)) { return true; }
    if (["browserback", "browserforward", "browserrefresh", "browserhome", "browsersearch",
         "browserfavorites", "browserstop", "print", "contextmenu"].indexOf(k) >= 0) { return true; }
    if (e.altKey && ["arrowleft", "arrowright", "home"].indexOf(k) >= 0) { return true; }
    if (e.ctrlKey || e.metaKey) {
      if (k.length === 1 && blockedCtrl.indexOf(k) >= 0) { return true; }
      if (k === "tab" || k === "pageup" || k === "pagedown") { return true; }
      if (e.shiftKey && (k === "i" || k === "j" || k === "c" || k === "k")) { return true; }
    }
    return false;
  }
  function stop(e) { e.preventDefault(); e.stopImmediatePropagation(); }
  window.addEventListener("keydown", function (e) { if (browserShortcut(e)) { stop(e); } }, true);
  window.addEventListener("contextmenu", stop, true);
  window.addEventListener("auxclick", function (e) { if (e.button === 1) { stop(e); } }, true);
  function sameFrame(e) {
    for (var n = e.target; n && n.nodeType === 1; n = n.parentNode) {
      if (n.tagName === "A" || n.tagName === "AREA" || n.tagName === "FORM") {
        if (n.target && ["_self", "_parent", "_top"].indexOf(n.target) < 0) { n.target = "_self"; }
        return;
      }
    }
  }
  document.addEventListener("click", sameFrame, true);
  document.addEventListener("submit", sameFrame, true);
  try {
    Object.defineProperty(window, "open", { value: function () { return null; }, writable: false, configurable: false });
  } catch (e) {}
  try {
    Object.defineProperty(window, "print", { value: function () {}, writable: false, configurable: false });
  } catch (e) {}
})();
