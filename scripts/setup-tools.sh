#!/usr/bin/env bash
# Installs the Debian tools the tests and drills run for real: redis-server, redis-sentinel,
# redis-cli, prometheus and promtool, amtool (prometheus-alertmanager), redis_exporter
# (prometheus-redis-exporter: the quorum-lost drill's alert path) and nft (nftables: the
# master-partitioned drill's network cut), and Debian's python3 (the stand-in API). Idempotent.
set -euo pipefail
needed=()
command -v redis-server >/dev/null || needed+=(redis-server)
command -v redis-sentinel >/dev/null || needed+=(redis-sentinel)
command -v redis-cli >/dev/null || needed+=(redis-tools)
command -v promtool >/dev/null || needed+=(prometheus)
command -v amtool >/dev/null || needed+=(prometheus-alertmanager)
command -v prometheus-redis-exporter >/dev/null || needed+=(prometheus-redis-exporter)
command -v nft >/dev/null || needed+=(nftables)
# The stand-in API's tests run Debian's python3 (/usr/bin/python3), the one its image pins.
[ -x /usr/bin/python3 ] || needed+=(python3-minimal)
if [ ${#needed[@]} -eq 0 ]; then
  echo "setup-tools: redis-server, redis-sentinel, redis-cli, promtool, amtool, prometheus-redis-exporter and nft are present"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup-tools: need root (or sudo) to install: ${needed[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup-tools: installing ${needed[*]}"
$sudo apt-get update -qq
# --no-install-recommends saves about 150 MiB; the packages' own services are not needed.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
# Debian starts the packaged services on install; the tests start their own processes.
for service in redis-server redis-sentinel prometheus prometheus-alertmanager prometheus-redis-exporter; do
  $sudo systemctl stop "$service" >/dev/null 2>&1 || $sudo service "$service" stop >/dev/null 2>&1 || true
done
echo "setup-tools: done"
