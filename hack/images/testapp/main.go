// Command testapp is the test image of local-up's node (internal/localup):
// a tiny HTTP server whose version is baked in at build time
// (-ldflags "-X main.version=v1"), so that tests can tell which version of
// the image a container runs.
//
//	/testapp [serve]   listen on $PORT (8080): GET /healthz -> "ok",
//	                   GET /version -> the version, GET / -> a greeting
//	/testapp version   print the version and exit
//
// $PORT may list several ports ("8080,80,3000", as the image sets it, so
// that it also answers where the sample images it stands in for listen:
// nginx on 80, guestbook on 3000); the first must be free, the others are
// served when they are (a second testapp container in the same pod only
// gets its first port).
//
// It logs one line at start ("testapp <version> listening on :8080 :80
// :3000") and one per request, and exits at once on SIGTERM or SIGINT (it
// is PID 1 of its container, where signals without a handler are ignored).
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

var version = "unknown"

func main() {
	log.SetFlags(0)
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "version", "--version", "-version":
			fmt.Println(version)
			return
		case "serve":
		default:
			fmt.Fprintf(os.Stderr, "usage: %s [serve|version]\n", os.Args[0])
			os.Exit(2)
		}
	}
	ports := strings.Split(os.Getenv("PORT"), ",")
	if ports[0] == "" {
		ports = []string{"8080"}
	}
	hostname, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, version)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "testapp %s on %s\n", version, hostname)
	})
	server := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			log.Printf("%s %s %s", r.RemoteAddr, r.Method, r.URL.Path)
			mux.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}

	var listeners []net.Listener
	var addrs []string
	for i, port := range ports {
		l, err := net.Listen("tcp", ":"+strings.TrimSpace(port))
		if err != nil {
			if i == 0 {
				log.Fatal(err)
			}
			log.Printf("testapp %s: not serving :%s: %v", version, port, err)
			continue
		}
		listeners = append(listeners, l)
		addrs = append(addrs, ":"+strings.TrimSpace(port))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errs := make(chan error, len(listeners))
	for _, l := range listeners {
		go func(l net.Listener) { errs <- server.Serve(l) }(l)
	}
	log.Printf("testapp %s listening on %s", version, strings.Join(addrs, " "))
	select {
	case err := <-errs:
		log.Fatal(err)
	case <-ctx.Done():
		log.Printf("testapp %s: stopping", version)
		shutdown, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}
}
