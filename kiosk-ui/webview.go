//go:build windows

package kioskui

import (
	"reflect"
	"unsafe"

	webview "github.com/webview/webview_go"
)

// webviewCreated reports whether webview_go managed to create its native view. NewWindow
// returns a value even when webview_create failed (no WebView2 runtime, no display), and
// every method of that value then crashes; its only field is the native handle.
func webviewCreated(w webview.WebView) bool {
	if w == nil {
		return false
	}
	v := reflect.ValueOf(w)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct || v.Elem().NumField() == 0 ||
		v.Elem().Field(0).Kind() != reflect.Pointer && v.Elem().Field(0).Kind() != reflect.UnsafePointer {
		return true // an unknown layout: trust it
	}
	return *(*unsafe.Pointer)(v.UnsafePointer()) != nil
}
