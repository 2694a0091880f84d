//go:build !linux && !windows

package kioskui

import (
	"context"
	"errors"
)

// Run is not available on this platform: the kiosk shell runs on Linux (WebKitGTK) and
// Windows (WebView2).
func Run(ctx context.Context, opts Options) error {
	return errors.New("the kiosk shell runs on Linux and Windows only")
}
