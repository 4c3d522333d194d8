package bench

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps"
	appsv1alpha1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1alpha1"
	appsv1beta1 "github.com/kruise-apiserver/kruise-apiserver/pkg/apis/apps/v1beta1"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/apiserver"
	kruisescheme "github.com/kruise-apiserver/kruise-apiserver/pkg/generated/clientset/versioned/scheme"
)

// Media types.
const (
	mediaJSON     = "application/json"
	mediaProtobuf = "application/vnd.kubernetes.protobuf"
	mediaTable    = "application/json;as=Table;v=v1;g=meta.k8s.io"
)

// protobufMagic starts every Kubernetes protobuf message (runtime.Unknown follows).
var protobufMagic = []byte{0x6b, 0x38, 0x73, 0x00}

// Target is one way to reach CloneSets: ours through kube-apiserver, the
// CRD on kube-apiserver, or ours directly.
type Target struct {
	// Name is the column header.
	Name string
	// Base is the server URL; GroupVersion the API served there.
	Base         string
	GroupVersion schema.GroupVersion
	// Protobuf: the target speaks protobuf (ours), as the generated
	// clientset does; otherwise JSON (a CRD has nothing else).
	Protobuf bool

	client *http.Client
}

// NewTarget builds a target whose requests carry config's credentials; header
// is added to each request (front-proxy identity).
func NewTarget(name string, config *rest.Config, gv schema.GroupVersion, protobuf bool, header http.Header) (*Target, error) {
	config = rest.CopyConfig(config)
	if len(header) > 0 {
		config.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
			return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
				req = req.Clone(req.Context())
				for k, v := range header {
					req.Header[k] = v
				}
				return rt.RoundTrip(req)
			})
		}
	}
	transport, err := rest.TransportFor(config)
	if err != nil {
		return nil, err
	}
	return &Target{Name: name, Base: strings.TrimRight(config.Host, "/"), GroupVersion: gv, Protobuf: protobuf,
		client: &http.Client{Transport: transport}}, nil
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// path is the URL of clonesets in ns (all namespaces when empty), or of one.
func (t *Target) path(ns, name string) string {
	p := fmt.Sprintf("%s/apis/%s/%s", t.Base, t.GroupVersion.Group, t.GroupVersion.Version)
	if ns != "" {
		p += "/namespaces/" + ns
	}
	p += "/clonesets"
	if name != "" {
		p += "/" + name
	}
	return p
}

func (t *Target) writeType() string {
	if t.Protobuf {
		return mediaProtobuf
	}
	return mediaJSON
}

// statusError is an answer other than 2xx.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string {
	body := e.body
	if len(body) > 300 {
		body = body[:300]
	}
	return fmt.Sprintf("HTTP %d: %s", e.code, body)
}

func isConflict(err error) bool {
	var s *statusError
	return errors.As(err, &s) && s.code == http.StatusConflict
}

// do sends a request and returns the answer's body, or discards it (and
// returns nil) when discard is set.
func (t *Target) do(ctx context.Context, method, url string, body []byte, contentType, accept string, discard bool) ([]byte, int64, error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, reader)
	if err != nil {
		return nil, 0, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", accept)
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		data, _ := io.ReadAll(resp.Body)
		return nil, 0, &statusError{code: resp.StatusCode, body: string(data)}
	}
	if discard {
		n, err := io.Copy(io.Discard, resp.Body)
		return nil, n, err
	}
	data, err := io.ReadAll(resp.Body)
	return data, int64(len(data)), err
}

// object is one CloneSet as this target sends it: v1alpha1 of the CRD's
// group in JSON, or our v1beta1 in protobuf.
type object struct {
	alpha *appsv1alpha1.CloneSet
	beta  *appsv1beta1.CloneSet
}

var protobufEncoder = func() runtime.Encoder {
	info, ok := runtime.SerializerInfoForMediaType(kruisescheme.Codecs.SupportedMediaTypes(), mediaProtobuf)
	if !ok {
		panic("no protobuf serializer")
	}
	return kruisescheme.Codecs.EncoderForVersion(info.Serializer, appsv1beta1.SchemeGroupVersion)
}()

// newObject converts the benchmark's v1alpha1 CloneSet for this target.
func (t *Target) newObject(cs *appsv1alpha1.CloneSet) (object, error) {
	if !t.Protobuf {
		cs = cs.DeepCopy()
		cs.APIVersion = t.GroupVersion.String()
		cs.Kind = "CloneSet"
		return object{alpha: cs}, nil
	}
	internal := &apps.CloneSet{}
	if err := apiserver.Scheme.Convert(cs, internal, nil); err != nil {
		return object{}, err
	}
	beta := &appsv1beta1.CloneSet{}
	if err := apiserver.Scheme.Convert(internal, beta, nil); err != nil {
		return object{}, err
	}
	beta.APIVersion, beta.Kind = appsv1beta1.SchemeGroupVersion.String(), "CloneSet"
	return object{beta: beta}, nil
}

// encode returns the body of a create (rv "") or update, with the given
// annotations added.
func (o object) encode(rv string, annotations map[string]string) ([]byte, error) {
	var meta *metav1.ObjectMeta
	var obj runtime.Object
	if o.alpha != nil {
		c := *o.alpha
		obj, meta = &c, &c.ObjectMeta
	} else {
		c := *o.beta
		obj, meta = &c, &c.ObjectMeta
	}
	meta.ResourceVersion = rv
	if len(annotations) > 0 {
		merged := make(map[string]string, len(meta.Annotations)+len(annotations))
		for k, v := range meta.Annotations {
			merged[k] = v
		}
		for k, v := range annotations {
			merged[k] = v
		}
		meta.Annotations = merged
	}
	if o.alpha != nil {
		return json.Marshal(obj)
	}
	return runtime.Encode(protobufEncoder, obj)
}

// metadataOf reads an object's metadata from an answer in JSON or protobuf,
// without decoding the rest.
func metadataOf(data []byte) (*metav1.ObjectMeta, error) {
	if bytes.HasPrefix(data, protobufMagic) {
		unknown := &runtime.Unknown{}
		if err := unknown.Unmarshal(data[len(protobufMagic):]); err != nil {
			return nil, err
		}
		partial := &metav1.PartialObjectMetadata{}
		if err := partial.Unmarshal(unknown.Raw); err != nil {
			return nil, err
		}
		return &partial.ObjectMeta, nil
	}
	var partial struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(data, &partial); err != nil {
		return nil, err
	}
	return &partial.Metadata, nil
}

// watchEvent is what a watcher needs of an event.
type watchEvent struct {
	Type string
	Meta *metav1.ObjectMeta
}

// watchDecoder reads events from a watch stream in JSON or protobuf,
// decoding only each object's metadata.
type watchDecoder struct {
	body     io.Reader
	protobuf bool
	json     *json.Decoder
	buf      []byte
}

func newWatchDecoder(body io.Reader, contentType string) *watchDecoder {
	d := &watchDecoder{body: body, protobuf: strings.HasPrefix(contentType, mediaProtobuf)}
	if !d.protobuf {
		d.json = json.NewDecoder(body)
	}
	return d
}

func (d *watchDecoder) next() (watchEvent, error) {
	if !d.protobuf {
		var ev struct {
			Type   string `json:"type"`
			Object struct {
				Metadata metav1.ObjectMeta `json:"metadata"`
			} `json:"object"`
		}
		if err := d.json.Decode(&ev); err != nil {
			return watchEvent{}, err
		}
		return watchEvent{Type: ev.Type, Meta: &ev.Object.Metadata}, nil
	}
	var size [4]byte
	if _, err := io.ReadFull(d.body, size[:]); err != nil {
		return watchEvent{}, err
	}
	n := int(binary.BigEndian.Uint32(size[:]))
	if cap(d.buf) < n {
		d.buf = make([]byte, n)
	}
	frame := d.buf[:n]
	if _, err := io.ReadFull(d.body, frame); err != nil {
		return watchEvent{}, err
	}
	// A frame is a metav1.WatchEvent in raw protobuf (no envelope); its
	// object is enveloped.
	if bytes.HasPrefix(frame, protobufMagic) {
		unknown := &runtime.Unknown{}
		if err := unknown.Unmarshal(frame[len(protobufMagic):]); err != nil {
			return watchEvent{}, err
		}
		frame = unknown.Raw
	}
	ev := &metav1.WatchEvent{}
	if err := ev.Unmarshal(frame); err != nil {
		return watchEvent{}, err
	}
	raw := ev.Object.Raw
	if !bytes.HasPrefix(raw, protobufMagic) {
		raw = append(append([]byte{}, protobufMagic...), raw...)
	}
	meta, err := metadataOf(raw)
	if err != nil {
		return watchEvent{}, err
	}
	return watchEvent{Type: ev.Type, Meta: meta}, nil
}
