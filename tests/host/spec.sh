#!/bin/bash
# The netlink spec, the UAPI header and kmod/netlink.c agree
# (scripts/check-spec prints TAP).
cd "$(dirname "$0")/../.." || exit 1
exec scripts/check-spec
