#!/usr/bin/env bash
# Installs the Debian tools the tests and drills run for real: redis-server, redis-sentinel,
# redis-cli, prometheus and promtool, alertmanager and amtool, redis_exporter
# (prometheus-redis-exporter: the quorum-lost and prod-topology drills' alert path), nft (nftables: the
# master-partitioned drill's network cut), ip (iproute2: the prod-topology drill's hosts),
# Debian's python3 (the stand-in API), nginx (Alertmanager's gate), and restic and node_exporter (the backup-restore drill and
# `npm run restore`: restic at the version the backup image pins). Idempotent.
set -euo pipefail
# Prometheus (and promtool), Alertmanager (and amtool) and redis_exporter at exactly the versions
# the monitoring images pin (components/images/monitoringImages.ts; tests/artifacts/monitoringImages.test.ts compares the
# two lists): Debian 13's packages, taken from that suite alone (apt pin priority 100, so nothing
# else on this machine ever comes from it).
MONITORING_SUITE=trixie
# blackbox_exporter probes the certificate expiry of every TLS endpoint (its tcp prober).
MONITORING_PACKAGES=(prometheus=2.53.3+ds1-2 prometheus-alertmanager=0.28.1+ds-1 prometheus-redis-exporter=1.69.0-1 prometheus-blackbox-exporter=0.26.0-1)
needed=()
command -v redis-server >/dev/null || needed+=(redis-server)
command -v redis-sentinel >/dev/null || needed+=(redis-sentinel)
command -v redis-cli >/dev/null || needed+=(redis-tools)
for pin in "${MONITORING_PACKAGES[@]}"; do
  [ "$(dpkg-query -W -f '${Version}' "${pin%%=*}" 2>/dev/null)" = "${pin#*=}" ] || needed+=("$pin")
done
# nft: the master-partitioned drill's network cut, and the prod-topology drill applies the data
# hosts' firewall with the version their image pins (components/images/firewallImage.ts).
NFTABLES_PACKAGE=nftables=1.0.6-2+deb12u2
[ "$(dpkg-query -W -f '${Version}' nftables 2>/dev/null)" = "${NFTABLES_PACKAGE#*=}" ] || needed+=("$NFTABLES_PACKAGE")
# nginx: Alertmanager's gate, at the version its image pins (components/images/alertmanagerGateImage.ts).
NGINX_PACKAGE=nginx=1.22.1-9+deb12u12
[ "$(dpkg-query -W -f '${Version}' nginx 2>/dev/null)" = "${NGINX_PACKAGE#*=}" ] || needed+=("$NGINX_PACKAGE" "nginx-common=${NGINX_PACKAGE#*=}")
# ip (iproute2): the prod-topology drill's hosts are network namespaces on a bridge.
command -v ip >/dev/null || needed+=(iproute2)
# The stand-in API's tests run Debian's python3 (/usr/bin/python3), the one its image pins.
[ -x /usr/bin/python3 ] || needed+=(python3-minimal)
# The backup image's restic (components/images/backupImage.ts; a unit test compares the pins).
RESTIC_PACKAGE=restic=0.14.0-1+b5
[ "$(dpkg-query -W -f '${Version}' restic 2>/dev/null)" = "${RESTIC_PACKAGE#*=}" ] || needed+=("$RESTIC_PACKAGE")
# openssl issues the tests' certificates.
command -v openssl >/dev/null || needed+=(openssl)
# The backup drill reads the job's metrics through node_exporter's textfile collector.
command -v prometheus-node-exporter >/dev/null || needed+=(prometheus-node-exporter)
if [ ${#needed[@]} -eq 0 ]; then
  echo "setup-tools: redis-server, redis-sentinel, redis-cli, ip, openssl, node_exporter and the pinned nftables, nginx, restic, prometheus, alertmanager, redis_exporter and blackbox_exporter are present"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup-tools: need root (or sudo) to install: ${needed[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup-tools: installing ${needed[*]}"
if [ ! -f "/etc/apt/sources.list.d/veza-$MONITORING_SUITE.sources" ]; then
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$MONITORING_SUITE" | $sudo tee "/etc/apt/sources.list.d/veza-$MONITORING_SUITE.sources" >/dev/null
  printf 'Package: *\nPin: release n=%s\nPin-Priority: 100\n' "$MONITORING_SUITE" | $sudo tee "/etc/apt/preferences.d/veza-$MONITORING_SUITE" >/dev/null
fi
$sudo apt-get update -qq
# --no-install-recommends saves about 150 MiB; the packages' own services are not needed.
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
# Debian starts the packaged services on install; the tests start their own processes.
for service in nginx redis-server redis-sentinel prometheus prometheus-alertmanager prometheus-redis-exporter prometheus-node-exporter prometheus-blackbox-exporter; do
  $sudo systemctl stop "$service" >/dev/null 2>&1 || $sudo service "$service" stop >/dev/null 2>&1 || true
done
echo "setup-tools: done"
