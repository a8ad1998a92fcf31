#!/bin/sh
# Creates the namespace and registers the gateway's search attributes (idempotent).
# Keep the list in step with common/search-attributes.ts.
set -eu
ns="${TEMPORAL_NAMESPACE:-default}"
until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do sleep 2; done
temporal operator namespace describe -n "$ns" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 ||
  temporal operator namespace create -n "$ns" --retention 168h --address "$TEMPORAL_ADDRESS"
for pair in Tenant=Keyword TaskClass=Keyword Provider=Keyword Model=Keyword FallbackCount=Int Outcome=Keyword Feature=Keyword CostUsd=Double; do
  name="${pair%%=*}"; type="${pair#*=}"
  temporal operator search-attribute create -n "$ns" --name "$name" --type "$type" --address "$TEMPORAL_ADDRESS" --yes ||
    echo "search attribute $name already exists"
done
