package localup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Images are the references of the images local-up builds here (no
// internet) and pushes to the node's registry, which the node pulls from.
// They are predictable: <registry>/kruise-e2e/<name>:<tag>, the registry
// being <node IP>:5000 (10.200.0.2:5000 for the first node on a machine).
type Images struct {
	// Registry is host:port of the loopback registry (plain HTTP), also
	// reachable from the host.
	Registry string
	// Busybox is a static busybox: /bin/sh and the usual applets, PATH=/bin,
	// command /bin/sh.
	Busybox string
	// Pause is the pod sandbox image (hack/images/pause), pinned in
	// containerd.
	Pause string
	// TestAppV1 and TestAppV2 are hack/images/testapp built as "v1" and
	// "v2": an HTTP server on port 8080 (and 80 and 3000, when free)
	// serving /healthz and /version (the version), on top of the busybox
	// layer (so sh, wget, cat... exist);
	// "/testapp version" prints the version. Their image IDs (digests)
	// differ.
	TestAppV1 string
	TestAppV2 string
	// StandIns are the images of OpenKruise's samples, as Docker Hub
	// references (docker.io/library/nginx:alpine), each mapped to the image
	// built here that stands in for it. The registry holds them under their
	// Docker Hub paths (<registry>/library/nginx:alpine, StandInRef) and the
	// node's containerd resolves docker.io through the registry only, so
	// the samples run unchanged and nothing is pulled from the internet.
	// Each stand-in has the layers of its image but a config of its own
	// (the label io.kruise-apiserver.stand-in-for names what it stands in
	// for), hence its own image ID: nginx:alpine and openkruise/guestbook:v1
	// are both testapp v1, yet different images, as they would be.
	StandIns map[string]string
}

// ImageRepository is the path of every image in the registry.
const ImageRepository = "kruise-e2e"

func imagesFor(registry string) Images {
	ref := func(name, tag string) string { return registry + "/" + ImageRepository + "/" + name + ":" + tag }
	images := Images{
		Registry:  registry,
		Busybox:   ref("busybox", "v1"),
		Pause:     ref("pause", "v1"),
		TestAppV1: ref("testapp", "v1"),
		TestAppV2: ref("testapp", "v2"),
	}
	images.StandIns = map[string]string{
		"docker.io/library/nginx:alpine":    images.TestAppV1,
		"docker.io/library/busybox:latest":  images.Busybox,
		"docker.io/openkruise/guestbook:v1": images.TestAppV1,
		"docker.io/openkruise/guestbook:v2": images.TestAppV2,
	}
	return images
}

// StandInLabel is the image label of a stand-in that names the image it
// stands in for.
const StandInLabel = "io.kruise-apiserver.stand-in-for"

// StandInRef is where the registry holds the stand-in for a Docker Hub
// reference of StandIns: docker.io/library/nginx:alpine ->
// <registry>/library/nginx:alpine.
func (i Images) StandInRef(dockerHubRef string) string {
	return i.Registry + "/" + strings.TrimPrefix(dockerHubRef, "docker.io/")
}

// StandInNames returns the Docker Hub references of StandIns, sorted.
func (i Images) StandInNames() []string {
	names := make([]string, 0, len(i.StandIns))
	for name := range i.StandIns {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// All returns every image reference.
func (i Images) All() []string { return []string{i.Busybox, i.Pause, i.TestAppV1, i.TestAppV2} }

// layerEntry is one file, directory or symlink of an image layer.
type layerEntry struct {
	name string // without leading slash
	mode int64
	dir  bool
	link string // symlink target
	data []byte
}

// imageSpec is what writeOCILayout turns into an OCI image layout.
type imageSpec struct {
	layers     [][]layerEntry
	env        []string
	entrypoint []string
	cmd        []string
	ports      []string
	labels     map[string]string
}

// buildImages builds the images of Images into OCI layouts under dir, one
// layout per image (<dir>/<name>-<tag>), and returns the layout paths by
// reference. The content is deterministic (fixed times and owners), so the
// same sources give the same digests.
func buildImages(ctx context.Context, dir, imagesSrc string, images Images) (map[string]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	busybox, err := busyboxLayer()
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "bin")
	build := func(pkg, out, version string) ([]byte, error) {
		ldflags := "-s -w"
		if version != "" {
			ldflags += " -X main.version=" + version
		}
		path := filepath.Join(bin, out)
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", path, "./"+pkg)
		cmd.Dir = imagesSrc
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("building %s/%s: %v\n%s", imagesSrc, pkg, err, out)
		}
		return os.ReadFile(path)
	}
	pause, err := build("pause", "pause", "")
	if err != nil {
		return nil, err
	}
	specs := map[string]imageSpec{
		images.Busybox: {layers: [][]layerEntry{busybox}, env: []string{"PATH=/bin"}, cmd: []string{"/bin/sh"}},
		images.Pause:   {layers: [][]layerEntry{{{name: "pause", mode: 0o755, data: pause}}}, entrypoint: []string{"/pause"}},
	}
	for ref, version := range map[string]string{images.TestAppV1: "v1", images.TestAppV2: "v2"} {
		app, err := build("testapp", "testapp-"+version, version)
		if err != nil {
			return nil, err
		}
		// It listens on 80 and 3000 too, where nginx and guestbook, which
		// it stands in for, listen.
		specs[ref] = imageSpec{
			layers:     [][]layerEntry{busybox, {{name: "testapp", mode: 0o755, data: app}}},
			env:        []string{"PATH=/bin", "PORT=8080,80,3000"},
			entrypoint: []string{"/testapp"},
			ports:      []string{"8080/tcp", "80/tcp", "3000/tcp"},
		}
	}
	for dockerHubRef, ref := range images.StandIns {
		spec := specs[ref]
		spec.labels = map[string]string{StandInLabel: dockerHubRef}
		specs[images.StandInRef(dockerHubRef)] = spec
	}
	layouts := map[string]string{}
	for ref, spec := range specs {
		path := strings.TrimPrefix(ref, images.Registry+"/") // kruise-e2e/testapp:v1, library/nginx:alpine
		layout := filepath.Join(dir, strings.NewReplacer("/", "-", ":", "-").Replace(path))
		tag := path[strings.LastIndex(path, ":")+1:]
		if err := writeOCILayout(layout, tag, spec); err != nil {
			return nil, fmt.Errorf("image %s: %w", ref, err)
		}
		layouts[ref] = layout + ":" + tag
	}
	return layouts, nil
}

// busyboxLayer is the host's static busybox (Debian's busybox-static) as
// /bin/busybox with a symlink per applet, plus /etc/passwd, /etc/group and
// /tmp.
func busyboxLayer() ([]layerEntry, error) {
	path, err := exec.LookPath("busybox")
	if err != nil {
		return nil, fmt.Errorf("busybox not found (install busybox-static: hack/install-node-deps.sh): %w", err)
	}
	if path, err = filepath.EvalSymlinks(path); err != nil {
		return nil, err
	}
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			f.Close()
			return nil, fmt.Errorf("%s is dynamically linked; the images need a static busybox (busybox-static: hack/install-node-deps.sh)", path)
		}
	}
	f.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	list, err := exec.Command(path, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --list: %w", path, err)
	}
	entries := []layerEntry{
		{name: "bin", dir: true, mode: 0o755},
		{name: "bin/busybox", mode: 0o755, data: data},
		{name: "etc", dir: true, mode: 0o755},
		{name: "etc/passwd", mode: 0o644, data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{name: "etc/group", mode: 0o644, data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		{name: "root", dir: true, mode: 0o700},
		{name: "tmp", dir: true, mode: 0o1777},
	}
	for _, applet := range strings.Fields(string(list)) {
		if applet != "busybox" && !strings.Contains(applet, "/") {
			entries = append(entries, layerEntry{name: "bin/" + applet, link: "busybox", mode: 0o777})
		}
	}
	return entries, nil
}

// writeOCILayout writes an OCI image layout with one image, tagged tag.
func writeOCILayout(dir, tag string, spec imageSpec) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	writeBlob := func(data []byte) (string, error) {
		sum := sha256.Sum256(data)
		hexSum := hex.EncodeToString(sum[:])
		return "sha256:" + hexSum, os.WriteFile(filepath.Join(blobs, hexSum), data, 0o644)
	}
	type descriptor struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int               `json:"size"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	var layers []descriptor
	var diffIDs []string
	for _, entries := range spec.layers {
		tarball, err := tarLayer(entries)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(tarball)
		diffIDs = append(diffIDs, "sha256:"+hex.EncodeToString(sum[:]))
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
		if _, err := zw.Write(tarball); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		digest, err := writeBlob(gz.Bytes())
		if err != nil {
			return err
		}
		layers = append(layers, descriptor{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: digest, Size: gz.Len()})
	}
	imageConfig := map[string]interface{}{"WorkingDir": "/"}
	if len(spec.env) > 0 {
		imageConfig["Env"] = spec.env
	}
	if len(spec.entrypoint) > 0 {
		imageConfig["Entrypoint"] = spec.entrypoint
	}
	if len(spec.cmd) > 0 {
		imageConfig["Cmd"] = spec.cmd
	}
	if len(spec.labels) > 0 {
		imageConfig["Labels"] = spec.labels
	}
	if len(spec.ports) > 0 {
		ports := map[string]struct{}{}
		for _, p := range spec.ports {
			ports[p] = struct{}{}
		}
		imageConfig["ExposedPorts"] = ports
	}
	config, err := json.Marshal(map[string]interface{}{
		"architecture": "amd64",
		"os":           "linux",
		"config":       imageConfig,
		"rootfs":       map[string]interface{}{"type": "layers", "diff_ids": diffIDs},
	})
	if err != nil {
		return err
	}
	configDigest, err := writeBlob(config)
	if err != nil {
		return err
	}
	manifest, err := json.Marshal(map[string]interface{}{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Digest: configDigest, Size: len(config)},
		"layers":        layers,
	})
	if err != nil {
		return err
	}
	manifestDigest, err := writeBlob(manifest)
	if err != nil {
		return err
	}
	index, err := json.Marshal(map[string]interface{}{
		"schemaVersion": 2,
		"manifests": []descriptor{{
			MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: manifestDigest, Size: len(manifest),
			Annotations: map[string]string{"org.opencontainers.image.ref.name": tag},
		}},
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

// tarLayer writes entries, sorted, as an uncompressed tar with fixed times
// and root ownership.
func tarLayer(entries []layerEntry) ([]byte, error) {
	sorted := append([]layerEntry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0).UTC()
	for _, e := range sorted {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: epoch, Format: tar.FormatPAX}
		switch {
		case e.dir:
			h.Typeflag, h.Name = tar.TypeDir, e.name+"/"
		case e.link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.link
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(e.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
