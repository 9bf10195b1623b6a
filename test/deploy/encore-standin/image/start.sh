#!/bin/sh
# The stand-in app's entrypoint: serves /www with busybox httpd on $HOST:$PORT (the Encore runtime's default port is
# 8080). The infra config is read per request by the CGI script, from ENCORE_INFRA_CONFIG_PATH as Encore's runtime does.
# /__encore/healthz answers 200 as the runtime's does: the Deployments' readiness probe asks it on a real cluster.
if [ -z "$ENCORE_INFRA_CONFIG_PATH" ] || [ ! -r "$ENCORE_INFRA_CONFIG_PATH" ]; then
  echo "encore runtime (stand-in): ENCORE_INFRA_CONFIG_PATH is not set or not readable (${ENCORE_INFRA_CONFIG_PATH:-unset})" >&2
  exit 1
fi
echo "encore runtime (stand-in): listening on ${HOST:-0.0.0.0}:${PORT:-8080}, infra config ${ENCORE_INFRA_CONFIG_PATH}" >&2
# As PID 1 of a container, a process gets no default signal handlers: stop on SIGTERM explicitly, as a pod must.
/bin/busybox httpd -f -p "${HOST:-0.0.0.0}:${PORT:-8080}" -h /www &
server=$!
trap 'kill "$server"; exit 0' TERM INT
wait "$server"
