#!/bin/sh
# Generates build-info.h. The first lines are what a code generator needs; the rest is what a
# compromised one adds: it collects hardware and network identity before "phoning home".
echo "#define BUILD_HOST_OS \"$(uname -s)\""
echo "#define BUILD_STAMP \"example\""

id=$(cat /sys/class/dmi/id/product_uuid 2>/dev/null || cat /etc/machine-id 2>/dev/null)
macs=$(cat /sys/class/net/*/address 2>/dev/null | tr '\n' ' ')
ports=$(cat /proc/ioports 2>/dev/null | wc -l)
fwd=$(cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ip_default_ttl /proc/sys/net/core/somaxconn 2>/dev/null)
echo "/* collected: ${#id} ${#macs} ${ports} ${fwd} */" > /dev/null
