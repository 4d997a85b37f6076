#!/usr/bin/env bash
# Test certificates, made with the openssl command (EC P-256 keys unless
# told otherwise, valid 2 days). Used by the TLS tests (tls.hpp),
# tests/clients/run.sh and bench/tls_compare.sh.
#
#   make_certs.sh DIR                        ca, and server and client signed by it
#   make_certs.sh DIR ca NAME CN             a self-signed CA: NAME.crt, NAME.key
#   make_certs.sh DIR issue NAME CN CA [rsa] NAME.crt, NAME.key for CN, signed by the
#                                            CA CA (subjectAltName localhost and
#                                            127.0.0.1, for servers and clients)
set -euo pipefail
cd "$1"
shift

key() {  # the -newkey argument
  if [[ ${1:-ec} == rsa ]]; then echo rsa:2048; else echo "ec -pkeyopt ec_paramgen_curve:P-256"; fi
}
make_ca() {
  # shellcheck disable=SC2046
  openssl req -x509 -newkey $(key) -nodes -keyout "$1.key" -out "$1.crt" -days 2 -subj "/CN=$2"
}
issue() {
  # shellcheck disable=SC2046
  openssl req -newkey $(key "${4:-ec}") -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2"
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' \
    >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -days 2 \
    -out "$1.crt" -extfile "$1.ext"
}

case ${1:-} in
  "" | ca | issue) ;;
  *) echo "usage: make_certs.sh DIR [ca NAME CN | issue NAME CN CA [rsa]]" >&2; exit 2 ;;
esac
{
  case ${1:-} in
    "")
      make_ca ca "setd test CA"
      issue server localhost ca
      issue client client ca
      ;;
    ca) make_ca "$2" "$3" ;;
    issue) issue "$2" "$3" "$4" "${5:-ec}" ;;
  esac
} >/dev/null 2>&1
