package kioskui

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
)

// readURLFile reads the start URL the agent wrote (docs/ui-protocol.md): one line, at most
// maxURLLen bytes, a loopback http(s) URL. The file holds the UI token, so its content never
// appears in an error.
func readURLFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("the agent has not written its UI URL to %s yet (is kiosk-agent running?): %w", path, err)
		}
		return "", fmt.Errorf("read the UI URL file (kiosk-ui must be able to read %s): %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxURLLen+2))
	if err != nil {
		return "", fmt.Errorf("read the UI URL file %s: %w", path, err)
	}
	return parseURLFile(b)
}

// parseURLFile validates the content of the URL file.
func parseURLFile(b []byte) (string, error) {
	if len(b) > maxURLLen+1 {
		return "", fmt.Errorf("the UI URL file is longer than %d bytes", maxURLLen)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", errors.New("the UI URL file is empty")
	}
	if strings.ContainsAny(s, "\r\n\t ") {
		return "", errors.New("the UI URL file must hold one URL on one line")
	}
	if _, err := parseStartURL(s); err != nil {
		return "", fmt.Errorf("the UI URL file does not hold a usable URL: %w", redactErr(err))
	}
	return s, nil
}

// redactErr drops url.Error's copy of the URL (it holds the token).
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("malformed URL: %w", ue.Err)
	}
	return err
}
