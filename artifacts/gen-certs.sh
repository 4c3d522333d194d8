#!/usr/bin/env bash
# Creates the certificates that artifacts/base reads (through the
# secretGenerators in artifacts/certs/kustomization.yaml), with openssl:
#
#   serving-ca.{crt,key}     CA of kruise-apiserver's serving certificate; its
#                            certificate becomes each APIService's caBundle
#   serving.{crt,key}        serving certificate for
#                              kruise-apiserver.<ns>.svc
#                              kruise-apiserver.<ns>.svc.<cluster-domain>
#   etcd-ca.{crt,key}        CA of the bundled etcd (a separate CA: nothing
#                            signed by the serving CA can talk to etcd)
#   etcd-server.{crt,key}    etcd's server certificate (the headless Service's
#                            names, the pod's name, localhost)
#   etcd-client.{crt,key}    kruise-apiserver's etcd client certificate
#
# Usage: artifacts/gen-certs.sh [--renew | --force] [--dir DIR]
#
#   (none)    create what is missing; existing files are kept, so running it
#             again changes nothing
#   --renew   re-issue the serving, etcd server and etcd client certificates
#             with the existing CAs (caBundle and trust stay the same)
#   --force   replace everything, CAs included
#   --dir     output directory (default: artifacts/certs beside this script;
#             kustomize only reads it there)
#
# Environment: NAMESPACE (kruise-system), CLUSTER_DOMAIN (cluster.local),
# CA_DAYS (3650), CERT_DAYS (365). The namespace is also written in the
# manifests; change both together.
set -o errexit
set -o nounset
set -o pipefail

DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/certs
NAMESPACE=${NAMESPACE:-kruise-system}
CLUSTER_DOMAIN=${CLUSTER_DOMAIN:-cluster.local}
CA_DAYS=${CA_DAYS:-3650}
CERT_DAYS=${CERT_DAYS:-365}
MODE=create

usage() {
    sed -n '2,/^set -o errexit/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
}

while [[ $# -gt 0 ]]; do
    case "$1" in
    --renew) MODE=renew ;;
    --force) MODE=force ;;
    --dir)
        [[ $# -ge 2 ]] || { usage; exit 2; }
        DIR=$2
        shift
        ;;
    -h | --help) usage; exit 0 ;;
    *) echo "gen-certs.sh: unknown argument: $1" >&2; usage; exit 2 ;;
    esac
    shift
done

command -v openssl >/dev/null || { echo "gen-certs.sh: openssl is required" >&2; exit 1; }

umask 077
mkdir -p "${DIR}"
TMP=$(mktemp -d)
trap 'rm -rf "${TMP}"' EXIT

log() { echo "gen-certs.sh: $*" >&2; }

# newkey FILE: an ECDSA P-256 private key (PKCS#8 PEM).
newkey() {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

# ca NAME CN: a self-signed CA NAME.crt/NAME.key, unless present (or --force).
ca() {
    local name=$1 cn=$2
    if [[ "${MODE}" != force && -s "${DIR}/${name}.crt" && -s "${DIR}/${name}.key" ]]; then
        log "keeping ${DIR}/${name}.crt"
        return
    fi
    newkey "${DIR}/${name}.key"
    cat >"${TMP}/${name}.ext" <<EOF
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
EOF
    openssl req -x509 -new -key "${DIR}/${name}.key" -subj "/CN=${cn}" -days "${CA_DAYS}" \
        -sha256 -extensions v3_ca -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n[v3_ca]\n'; cat "${TMP}/${name}.ext") \
        -out "${DIR}/${name}.crt"
    log "created CA ${DIR}/${name}.crt (CN=${cn})"
    # A new CA invalidates what the old one signed.
    FORCE_LEAVES=1
}

# leaf NAME CA CN USAGES SANS: NAME.crt/NAME.key signed by CA, unless present
# (or --renew, --force, or a new CA). USAGES: serverAuth, clientAuth or both;
# SANS: an openssl subjectAltName value, or "" for none.
leaf() {
    local name=$1 ca=$2 cn=$3 usages=$4 sans=$5
    if [[ "${MODE}" == create && -z "${FORCE_LEAVES:-}" && -s "${DIR}/${name}.crt" && -s "${DIR}/${name}.key" ]] &&
        openssl verify -CAfile "${DIR}/${ca}.crt" "${DIR}/${name}.crt" >/dev/null 2>&1; then
        log "keeping ${DIR}/${name}.crt"
        return
    fi
    newkey "${DIR}/${name}.key"
    openssl req -new -key "${DIR}/${name}.key" -subj "/CN=${cn}" -out "${TMP}/${name}.csr"
    {
        echo "basicConstraints = critical, CA:FALSE"
        echo "keyUsage = critical, digitalSignature"
        echo "extendedKeyUsage = ${usages}"
        echo "authorityKeyIdentifier = keyid"
        [[ -z "${sans}" ]] || echo "subjectAltName = ${sans}"
    } >"${TMP}/${name}.ext"
    openssl x509 -req -in "${TMP}/${name}.csr" -CA "${DIR}/${ca}.crt" -CAkey "${DIR}/${ca}.key" \
        -CAcreateserial -CAserial "${TMP}/${ca}.srl" -days "${CERT_DAYS}" -sha256 \
        -extfile "${TMP}/${name}.ext" -out "${DIR}/${name}.crt" 2>/dev/null
    openssl verify -CAfile "${DIR}/${ca}.crt" "${DIR}/${name}.crt" >/dev/null
    log "issued ${DIR}/${name}.crt (CN=${cn}${sans:+, ${sans}})"
}

svc=kruise-apiserver.${NAMESPACE}.svc
etcd=kruise-etcd.${NAMESPACE}.svc

FORCE_LEAVES=
[[ "${MODE}" == create ]] || FORCE_LEAVES=1
ca serving-ca "kruise-apiserver-serving-ca"
leaf serving serving-ca "${svc}" serverAuth \
    "DNS:${svc}, DNS:${svc}.${CLUSTER_DOMAIN}, DNS:kruise-apiserver.${NAMESPACE}, DNS:kruise-apiserver"

FORCE_LEAVES=
[[ "${MODE}" == create ]] || FORCE_LEAVES=1
ca etcd-ca "kruise-etcd-ca"
# etcd also dials itself (its gRPC gateway) with the server certificate, hence
# clientAuth and localhost.
leaf etcd-server etcd-ca "kruise-etcd" "serverAuth, clientAuth" \
    "DNS:${etcd}, DNS:${etcd}.${CLUSTER_DOMAIN}, DNS:*.${etcd}, DNS:*.${etcd}.${CLUSTER_DOMAIN}, DNS:kruise-etcd.${NAMESPACE}, DNS:kruise-etcd, DNS:localhost, IP:127.0.0.1, IP:::1"
leaf etcd-client etcd-ca "kruise-apiserver-etcd-client" clientAuth ""

chmod 600 "${DIR}"/*.key
chmod 644 "${DIR}"/*.crt
log "done: certificates in ${DIR}"
