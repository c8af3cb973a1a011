#!/usr/bin/env bash
# Makes throwaway certificates for Loop's TLS tests (issue #12) into OUTDIR, with the openssl
# command-line tool only (written for OpenSSL 3.0). Nothing it makes is committed: tests and
# interop peers call it into a temporary directory.
#
#   scripts/make-test-certs.sh OUTDIR
#
# OUTDIR is created if missing; re-running overwrites the files below (other files in OUTDIR
# are left alone). Every key is EC P-256 (PKCS#8 PEM, unencrypted), every file PEM. All
# certificates are made in a temporary directory and checked with `openssl verify` (including
# the failures the tests rely on) before any is copied into OUTDIR. On success the one line
# printed is "make-test-certs: wrote N files to OUTDIR".
#
# Leaves are valid from 1 day ago to 30 days from now; CAs from 2019-01-01 to 10 years from now
# (so that expired.pem's only fault is its own dates). `openssl ca` signs everything, because
# `openssl x509 -req` and `openssl req -x509` in OpenSSL 3.0 cannot set notBefore.
#
# Trusted root and what it signs:
#   ca.pem, ca.key                  root CA "Loop Test CA": the one CA the clients trust
#   server.pem, server.key          leaf signed by ca: CN=localhost, SAN DNS:localhost,
#                                   IP:127.0.0.1, IP:::1, DNS:a.example; EKU serverAuth
#   b-example.pem, b-example.key    leaf signed by ca for DNS:b.example only (SNI selection:
#                                   the certificate a server picks for server name b.example)
#   wrong-host.pem, wrong-host.key  leaf signed by ca for DNS:a.example only (no localhost, no
#                                   IP): a client connecting to localhost/127.0.0.1 must reject it
#   expired.pem, expired.key        leaf signed by ca for localhost/127.0.0.1, valid only from
#                                   2020-01-01 to 2021-01-01: a client must reject it as expired
# Chain through an intermediate:
#   intermediate.pem, .key          intermediate CA "Loop Test Intermediate CA", signed by ca
#   chain-leaf.pem                  leaf signed by intermediate for localhost, 127.0.0.1, ::1
#                                   (alone: a server sending only this fails a ca.pem client)
#   server-chain.pem                chain-leaf.pem followed by intermediate.pem: the chain a
#                                   server sends, verified by a client that trusts only ca.pem
#                                   (a server must send every certificate of the file, as
#                                   SSL_CTX_use_certificate_chain_file does; `openssl s_server
#                                   -cert` sends only the first: add -cert_chain intermediate.pem)
#   server-chain.key                chain-leaf's key
# Not trusted by anyone:
#   self-signed.pem, .key           self-signed leaf for localhost, 127.0.0.1, ::1 (CA:FALSE)
#   untrusted-ca.pem, .key          a second root CA "Loop Untrusted Test CA" nobody trusts
#   untrusted.pem, untrusted.key    leaf for localhost, 127.0.0.1, ::1 signed by untrusted-ca
# Client certificates (mTLS):
#   client-ca.pem, client-ca.key    root CA "Loop Test Client CA" that servers trust for clients
#   client.pem, client.key          client certificate signed by client-ca: CN=loop-test-client,
#                                   SAN DNS:client.loop.test, EKU clientAuth
#   other-client.pem, .key          the same kind of client certificate (CN=loop-test-other-client)
#                                   signed by untrusted-ca: a server trusting client-ca rejects it
#   comma-name.pem, .key            client certificate signed by client-ca whose only name is the
#                                   common name "evil.example,client.loop.test" (no subjectAltName)
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
outdir=$1

work=$(mktemp -d "${TMPDIR:-/tmp}/make-test-certs.XXXXXX")
trap 'rm -rf "$work"' EXIT
log="$work/log"
out="$work/out"
mkdir -p "$out" "$work/issued"
: >"$work/index.txt"

# One configuration for `openssl req` (no system openssl.cnf involved) and `openssl ca`.
cat >"$work/openssl.cnf" <<EOF
[ req ]
distinguished_name = req_dn
[ req_dn ]
[ ca ]
default_ca = loop_ca
[ loop_ca ]
database = $work/index.txt
new_certs_dir = $work/issued
rand_serial = yes
unique_subject = no
default_md = sha256
email_in_dn = no
policy = loop_policy
[ loop_policy ]
commonName = supplied
EOF

# Runs a command quietly; on failure prints what it said and stops.
run() {
    if ! "$@" >"$log" 2>&1; then
        echo "make-test-certs: failed: $*" >&2
        cat "$log" >&2
        exit 1
    fi
}

fail() {
    echo "make-test-certs: $*" >&2
    exit 1
}

utc() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
leaf_start=$(utc '1 day ago')
leaf_end=$(utc '30 days')
ca_start=20190101000000Z
ca_end=$(utc '3650 days')

# new_key NAME CN: a P-256 key $out/NAME.key and a request $work/NAME.csr for CN.
new_key() {
    run openssl req -config "$work/openssl.cnf" -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
        -noenc -keyout "$out/$1.key" -out "$work/$1.csr" -subj "/CN=$2"
}

# sign NAME ISSUER START END EXTENSION...: $out/NAME.pem from $work/NAME.csr, signed by ISSUER's
# key (ISSUER = NAME: self-signed), with the given extension lines.
sign() {
    local name=$1 issuer=$2 start=$3 end=$4
    shift 4
    { echo "[ ext ]"; printf '%s\n' "$@"; } >"$work/$name.ext"
    local signer=(-cert "$out/$issuer.pem" -keyfile "$out/$issuer.key")
    if [ "$issuer" = "$name" ]; then
        signer=(-selfsign -keyfile "$out/$name.key")
    fi
    run openssl ca -config "$work/openssl.cnf" -batch -notext "${signer[@]}" -in "$work/$name.csr" \
        -out "$out/$name.pem" -startdate "$start" -enddate "$end" -extfile "$work/$name.ext" -extensions ext
}

root_ca() { # NAME CN
    new_key "$1" "$2"
    sign "$1" "$1" "$ca_start" "$ca_end" "basicConstraints = critical, CA:TRUE" \
        "keyUsage = critical, keyCertSign, cRLSign" "subjectKeyIdentifier = hash"
}

# leaf NAME ISSUER CN SAN EKU [START END]
leaf() {
    new_key "$1" "$3"
    sign "$1" "$2" "${6:-$leaf_start}" "${7:-$leaf_end}" "basicConstraints = critical, CA:FALSE" \
        "keyUsage = critical, digitalSignature" "extendedKeyUsage = $5" "subjectAltName = $4" \
        "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid"
}

local_san="DNS:localhost, IP:127.0.0.1, IP:::1"

root_ca ca "Loop Test CA"
root_ca untrusted-ca "Loop Untrusted Test CA"
root_ca client-ca "Loop Test Client CA"

leaf server ca localhost "DNS:localhost, IP:127.0.0.1, IP:::1, DNS:a.example" serverAuth
leaf b-example ca b.example "DNS:b.example" serverAuth
leaf wrong-host ca a.example "DNS:a.example" serverAuth
leaf expired ca localhost "$local_san" serverAuth 20200101000000Z 20210101000000Z

new_key intermediate "Loop Test Intermediate CA"
sign intermediate ca "$ca_start" "$ca_end" "basicConstraints = critical, CA:TRUE, pathlen:0" \
    "keyUsage = critical, keyCertSign, cRLSign" "subjectKeyIdentifier = hash" "authorityKeyIdentifier = keyid"
leaf chain-leaf intermediate localhost "$local_san" serverAuth
cat "$out/chain-leaf.pem" "$out/intermediate.pem" >"$out/server-chain.pem"
mv "$out/chain-leaf.key" "$out/server-chain.key"

new_key self-signed localhost
sign self-signed self-signed "$leaf_start" "$leaf_end" "basicConstraints = critical, CA:FALSE" \
    "keyUsage = critical, digitalSignature" "extendedKeyUsage = serverAuth" "subjectAltName = $local_san" \
    "subjectKeyIdentifier = hash"
leaf untrusted untrusted-ca localhost "$local_san" serverAuth

leaf client client-ca loop-test-client "DNS:client.loop.test" clientAuth
# A client certificate whose only name is a common name with a comma in it (no
# subjectAltName): the peer-certificate names must not split it into two.
new_key comma-name "evil.example,client.loop.test"
sign comma-name client-ca "$leaf_start" "$leaf_end" "basicConstraints = critical, CA:FALSE" \
    "keyUsage = critical, digitalSignature" "extendedKeyUsage = clientAuth" "subjectKeyIdentifier = hash" \
    "authorityKeyIdentifier = keyid"
leaf other-client untrusted-ca loop-test-other-client "DNS:client.loop.test" clientAuth

# --- checks -----------------------------------------------------------------------------------

# verifies WHAT... : `openssl verify WHAT...` must succeed.
verifies() {
    if ! openssl verify "$@" >"$log" 2>&1; then
        fail "openssl verify $* failed, want OK: $(cat "$log")"
    fi
}

# rejects ERROR WHAT... : `openssl verify WHAT...` must fail, saying ERROR.
rejects() {
    local error=$1
    shift
    if openssl verify "$@" >"$log" 2>&1; then
        fail "openssl verify $* succeeded, want \"$error\""
    fi
    if ! grep -qF "$error" "$log"; then
        fail "openssl verify $* failed without \"$error\": $(cat "$log")"
    fi
}

start_dir=$PWD
cd "$out"
server_host=(-purpose sslserver -verify_hostname localhost)
server_ip=(-purpose sslserver -verify_ip 127.0.0.1)

verifies -CAfile ca.pem "${server_host[@]}" server.pem
verifies -CAfile ca.pem "${server_ip[@]}" server.pem
verifies -CAfile ca.pem -purpose sslserver -verify_ip ::1 server.pem
verifies -CAfile ca.pem -purpose sslserver -verify_hostname a.example server.pem
rejects "unsuitable certificate purpose" -CAfile ca.pem -purpose sslclient server.pem

verifies -CAfile ca.pem -purpose sslserver -verify_hostname b.example b-example.pem
rejects "hostname mismatch" -CAfile ca.pem "${server_host[@]}" b-example.pem

verifies -CAfile ca.pem -purpose sslserver -verify_hostname a.example wrong-host.pem
rejects "hostname mismatch" -CAfile ca.pem "${server_host[@]}" wrong-host.pem
rejects "IP address mismatch" -CAfile ca.pem "${server_ip[@]}" wrong-host.pem

rejects "certificate has expired" -CAfile ca.pem "${server_host[@]}" expired.pem
verifies -CAfile ca.pem "${server_ip[@]}" -attime "$(date -u -d 2020-07-01 +%s)" expired.pem

verifies -CAfile ca.pem ca.pem
verifies -CAfile ca.pem intermediate.pem
verifies -CAfile ca.pem -untrusted server-chain.pem "${server_host[@]}" chain-leaf.pem
verifies -CAfile ca.pem -untrusted server-chain.pem "${server_ip[@]}" chain-leaf.pem
rejects "unable to get local issuer certificate" -CAfile ca.pem chain-leaf.pem
openssl x509 -in server-chain.pem -noout -subject | grep -qx 'subject=CN = localhost' ||
    fail "server-chain.pem does not start with the leaf"
[ "$(grep -c 'BEGIN CERTIFICATE' server-chain.pem)" = 2 ] || fail "server-chain.pem does not hold 2 certificates"

verifies -CAfile self-signed.pem "${server_host[@]}" self-signed.pem
rejects "self-signed certificate" -CAfile ca.pem self-signed.pem

verifies -CAfile untrusted-ca.pem "${server_host[@]}" untrusted.pem
rejects "unable to get local issuer certificate" -CAfile ca.pem untrusted.pem

verifies -CAfile client-ca.pem -purpose sslclient client.pem
rejects "unsuitable certificate purpose" -CAfile client-ca.pem -purpose sslserver client.pem
rejects "unable to get local issuer certificate" -CAfile ca.pem client.pem
verifies -CAfile untrusted-ca.pem -purpose sslclient other-client.pem
rejects "unable to get local issuer certificate" -CAfile client-ca.pem other-client.pem

# Each key belongs to its certificate.
for cert in *.pem; do
    name=${cert%.pem}
    key=$name.key
    case $name in
    server-chain | chain-leaf) key=server-chain.key ;;
    esac
    [ -f "$key" ] || fail "no key for $cert"
    [ "$(openssl x509 -in "$cert" -noout -pubkey)" = "$(openssl pkey -in "$key" -pubout)" ] ||
        fail "$key is not the key of $cert"
done

# --- install ----------------------------------------------------------------------------------

files=(*.pem *.key)
cd "$start_dir"
mkdir -p -- "$outdir"
cp -f -- "${files[@]/#/$out/}" "$outdir/"
echo "make-test-certs: wrote ${#files[@]} files to $outdir"
