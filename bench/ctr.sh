#!/usr/bin/env bash
# The container benchmark under the name the OCI-runtime issue uses; the
# work is in bench/oci.sh (vessel-runc vs runc vs crun, one run, medians).
exec "$(dirname "$0")/oci.sh" "$@"
