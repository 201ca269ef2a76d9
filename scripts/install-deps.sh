#!/usr/bin/env bash
# Installs everything Bock builds with, runs with and is tested against,
# from Debian 12's packages only. Run as root (a laptop user: sudo).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

build=(cmake g++ make ninja-build ccache pkg-config
       libfmt-dev libcli11-dev nlohmann-json3-dev libssl-dev libarchive-dev
       libcap-dev libseccomp-dev libyaml-cpp-dev libcurl4-openssl-dev
       libslirp-dev libglib2.0-dev libfuse3-dev libtomlplusplus-dev catch2 libisal-dev zlib1g-dev)
# nftables: nft, the service networks' forwarding rules (and bock-netns's loopback fast path).
run=(uidmap busybox-static fuse-overlayfs fuse3 iproute2 util-linux procps nftables)
# Peers used only by tests and benchmarks.
# tmux: the terminal the exec -it tests type into and resize.
# podman-compose: bench/compose's peer.
# buildah: the builder's peer (rootless.build builds a corpus with both).
# fio, stress-ng: the FUSE overlay's stress cases (tests/rootless/fuse_overlay_cases.sh).
# iperf3, slirp4netns, passt: bench/net's tool and peers.
peers=(podman podman-compose buildah runc crun containerd skopeo umoci docker-registry hyperfine tar findutils time bc
       python3 python3-cryptography zstd tmux fio stress-ng iperf3 slirp4netns passt)

apt-get update
apt-get install -y --no-install-recommends "${build[@]}" "${run[@]}" "${peers[@]}"
