package kioskui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// The page-facing API, window.kioskShell (contract in docs/kiosk-ui.md).
const (
	// APIVersion is window.kioskShell.api: it changes when the contract changes.
	APIVersion = 1
	// wipeBinding is the raw webview binding behind kioskShell.wipe. The API script takes
	// it off window at once; a call must carry the per-start secret the script holds.
	wipeBinding = "__kioskShellWipe"
	// wipeDoneHook is called by the shell (Eval) when a wipe finished.
	wipeDoneHook = "__kioskShellWipeDone"
)

// newSecret returns the per-start secret that proves a wipe call came through the API
// script of the top-level UI document. Frames of other origins cannot read it.
func newSecret() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

func secretOK(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// apiScript is injected into every top-level document after the webview bindings, before
// the page's own scripts run.
func apiScript(secret, version string) string {
	sec, _ := json.Marshal(secret)
	ver, _ := json.Marshal(version)
	return fmt.Sprintf(`(function () {
  "use strict";
  var call = window[%[1]q];
  try { delete window[%[1]q]; } catch (e) {}
  if (typeof call !== "function" || window.kioskShell) { return; }
  var secret = %[3]s, next = 1, pending = {};
  Object.defineProperty(window, %[2]q, { value: function (id, err) {
    var p = pending[id];
    if (!p) { return; }
    delete pending[id];
    if (err) { p.reject(new Error(err)); } else { p.resolve(); }
  } });
  var api = Object.freeze({
    api: %[5]d,
    version: %[4]s,
    wipe: function () {
      var id = next++;
      return new Promise(function (resolve, reject) {
        pending[id] = { resolve: resolve, reject: reject };
        call(secret, id).catch(function (e) {
          delete pending[id];
          reject(e instanceof Error ? e : new Error(String(e)));
        });
      });
    }
  });
  Object.defineProperty(window, "kioskShell", { value: api, enumerable: true });
})();`, wipeBinding, wipeDoneHook, sec, ver, APIVersion)
}

// wipeDoneScript settles the promise of wipe call id; errMsg is "" on success.
func wipeDoneScript(id int, errMsg string) string {
	m, _ := json.Marshal(errMsg)
	return fmt.Sprintf("window[%q] && window[%q](%d, %s);", wipeDoneHook, wipeDoneHook, id, m)
}
