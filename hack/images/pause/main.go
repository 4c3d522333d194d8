// Command pause is the pod sandbox ("pause") image of local-up's node
// (internal/localup): PID 1 of every pod, it holds the pod's namespaces,
// reaps the zombies that end up with it and exits on SIGTERM or SIGINT.
// Built statically (CGO_ENABLED=0), it is the image's only file, /pause.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		// Reap every child that has exited (signals coalesce).
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
