#!/usr/bin/env bash
# The toolchains `make toolchains` builds Spoke's generated code with: each language's own compiler and
# runtime, from Debian's packages only (CI runs as root on Debian bookworm; no Go module proxy, Maven
# Central, rubygems or packagist is reachable). Idempotent: a second run installs nothing.
#
# Go is the one language bookworm alone cannot serve: the layer's protoc-gen-go is trixie's (editions),
# and its runtime, google.golang.org/protobuf at the same version, needs Go >= 1.21. So Go 1.23 comes
# from bookworm-backports and that runtime's sources (an arch-all .deb of Go source) from the suite the
# layer pins, both fetched with apt through a private sources list (the system's apt setup is untouched);
# the runtime is unpacked under build/toolchains/protobuf-go rather than installed over bookworm's.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TOOLCHAINS="$ROOT/build/toolchains"
export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  # Go: grpc-go 1.33 and golang/protobuf 1.5 (the APIv2-based one grpc-go's codec must use), as Go source
  golang-google-grpc-dev golang-github-golang-protobuf-1-5-dev
  # Java: javac/java and the runtime jars in /usr/share/java (grpc-java's stubs also need javax.annotation
  # and, at run time, perfmark)
  default-jdk-headless libprotobuf-java libgrpc-java libguava-java libgeronimo-annotation-1.3-spec-java
  libperfmark-java
  # C++: the headers and libraries of protobuf 3.21.12 and gRPC 1.51.1
  g++ pkg-config libprotobuf-dev libgrpc++-dev
  # Ruby and PHP with the protobuf (and for Ruby gRPC) runtimes
  ruby ruby-google-protobuf ruby-grpc php-cli php-google-protobuf
  # Python: a fresh virtualenv for pip-installing the ZIPs; Debian's own protobuf runtime
  python3-venv python3-protobuf python3-grpcio
)
GO_PACKAGES=(golang-1.23-go golang-1.23-src)   # /usr/lib/go-1.23/bin/go

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for package in "${PACKAGES[@]}"; do installed "$package" || missing+=("$package"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "toolchains: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The protobuf-go runtime matching the layer's protoc-gen-go: same source package, same version.
read -r GO_SUITE GO_RUNTIME_VERSION < <(python3 - "$ROOT/layers/protoc/versions.json" <<'PY'
import json, re, sys
debian = json.load(open(sys.argv[1]))["debian"]
pin = debian["packages"]["protoc-gen-go"]
print(pin.get("suite", debian["suite"]), re.sub(r"\+b\d+$", "", pin["version"]))
PY
)
[ -n "${GO_RUNTIME_VERSION:-}" ] || { echo "toolchains: no protoc-gen-go pin in layers/protoc/versions.json" >&2; exit 1; }
RUNTIME_DIR="$TOOLCHAINS/protobuf-go"
have_runtime() { [ "$(cat "$RUNTIME_DIR/VERSION" 2>/dev/null)" = "$GO_RUNTIME_VERSION" ]; }
have_go() { for package in "${GO_PACKAGES[@]}"; do installed "$package" || return 1; done; }

if ! have_runtime || ! have_go; then
  APT_DIR="$TOOLCHAINS/apt"
  mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/archives/partial" "$APT_DIR/debs"
  KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
  printf 'deb [signed-by=%s] http://deb.debian.org/debian %s main\n' \
    "$KEYRING" bookworm-backports "$KEYRING" "$GO_SUITE" | sort -u > "$APT_DIR/sources.list"
  APT=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null
       -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR" -o Dir::State::status=/dev/null
       -o APT::Sandbox::User=root)
  apt-get "${APT[@]}" update -qq
  cd "$APT_DIR/debs"
  rm -f ./*.deb
  if ! have_go; then
    echo "toolchains: installing ${GO_PACKAGES[*]} from bookworm-backports"
    apt-get "${APT[@]}" download -qq "${GO_PACKAGES[@]}"
    apt-get install -y -qq --no-install-recommends ./golang-1.23-*.deb >/dev/null
  fi
  if ! have_runtime; then
    echo "toolchains: unpacking golang-google-protobuf-dev $GO_RUNTIME_VERSION ($GO_SUITE) into $RUNTIME_DIR"
    apt-get "${APT[@]}" download -qq "golang-google-protobuf-dev=$GO_RUNTIME_VERSION"
    rm -rf "$RUNTIME_DIR"
    dpkg-deb -x golang-google-protobuf-dev_*.deb "$RUNTIME_DIR"
    echo "$GO_RUNTIME_VERSION" > "$RUNTIME_DIR/VERSION"
  fi
  rm -f ./*.deb
fi
echo "toolchains: ready (Go $(/usr/lib/go-1.23/bin/go version | cut -d' ' -f3), protobuf-go $GO_RUNTIME_VERSION)"
