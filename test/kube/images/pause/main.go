// The pod sandbox and placeholder image's only process: it sleeps until SIGTERM or SIGINT and then exits 0, and reaps
// the zombies a shared PID namespace hands it. As PID 1, busybox's sleep would ignore SIGTERM and make every pod
// deletion wait out its grace period.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
