#!/bin/sh
# Regenerates test/analysis/certs/:
#  - corpus-*.der: the certificates sent in clear in public captures of the ja4 corpus
#    (TLS 1.2 Certificate messages), extracted with tshark;
#  - policy certificates made with openssl for the RFC 6125 / chain / pin tests:
#    ca.pem (test CA), other-ca.pem (a second, unrelated CA), and leaves signed by ca.pem:
#    dns.pem (SAN console.example.com, *.example.com, IP 10.0.0.5, IP 2001:db8::5),
#    cn-only.pem (CN console.example.com, no SAN), partial-wildcard.pem (SAN foo*.example.com),
#    ec.pem (P-256 key, SAN console.example.com).
set -eu
cd "$(dirname "$0")/certs"
corpus=../../../../shared/corpus/ja4/pcap
for capture in browsers-x509.pcapng badcurveball.pcap; do
  tshark -r "$corpus/$capture" -Y tls.handshake.certificate -T fields -e frame.number -e tls.handshake.certificate 2>/dev/null |
    while read -r frame hexes; do
      i=0
      for hex in $(echo "$hexes" | tr ',' ' '); do
        echo "$hex" | xxd -r -p > "corpus-${capture%%.*}-$frame-$i.der"
        i=$((i + 1))
      done
    done
done

days=3650
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days $days -subj "/O=Test/CN=Test Console CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days $days -subj "/O=Proxy/CN=Inspecting Proxy CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
leaf() { # name key-spec subject san
  if [ "$2" = ec ]; then openssl ecparam -name prime256v1 -genkey -noout -out "$1.key"; else openssl genrsa -out "$1.key" 2048 2>/dev/null; fi
  openssl req -new -key "$1.key" -subj "$3" -out "$1.csr"
  if [ -n "$4" ]; then printf 'subjectAltName=%s\n' "$4" > "$1.ext"; else : > "$1.ext"; fi
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
leaf dns rsa "/CN=console.example.com" "DNS:console.example.com,DNS:*.example.com,IP:10.0.0.5,IP:2001:db8::5"
leaf cn-only rsa "/CN=console.example.com" ""
leaf partial-wildcard rsa "/CN=foo" "DNS:foo*.example.com"
leaf ec ec "/CN=console.example.com" "DNS:console.example.com"
rm -f ./*.key ca.srl
