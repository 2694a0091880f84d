// Package installer runs kiosk-agent as a system service (systemd on Linux, the service
// manager on Windows) through github.com/kardianos/service, and carries the technician's
// service commands: install, uninstall, start, stop, status.
package installer
