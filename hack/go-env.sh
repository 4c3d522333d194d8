# Sourced by the hack/ scripts that build or test kruise-apiserver.
#
# kruise-apiserver is built with GOEXPERIMENT=jsonv2: encoding/json then runs
# on Go's v2 implementation, which encodes our objects about twice as fast
# (JSON LISTs, tables, JSON GETs and watches) with byte-identical output
# (docs/performance.md, "JSON encoding"). The tests run the same way, so they
# test what is shipped. The Kubernetes binaries of
# hack/build-kube-binaries.sh are built without it: they are the baseline
# users run.
case ",${GOEXPERIMENT:-}," in
    *,jsonv2,*) ;;
    *) export GOEXPERIMENT="jsonv2${GOEXPERIMENT:+,${GOEXPERIMENT}}" ;;
esac
