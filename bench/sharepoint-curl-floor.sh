#!/usr/bin/env bash
# The transfer floor for bench/run-sharepoint.sh: one token request, then every URL of
# URLS_FILE (site, list and item pages, computed beforehand) over one reused connection,
# bodies discarded, nothing parsed.
#   sharepoint-curl-floor.sh BASE TENANT CLIENT_ID SECRET CA_FILE URLS_FILE
set -euo pipefail
base=$1 tenant=$2 client_id=$3 secret=$4 ca=$5 urls=$6
token=$(curl -sS --cacert "$ca" -d grant_type=client_credentials -d "client_id=$client_id" \
  --data-urlencode "client_secret=$secret" -d scope=https://graph.microsoft.com/.default \
  "$base/$tenant/oauth2/v2.0/token" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
config=$(mktemp)
trap 'rm -f "$config"' EXIT
while IFS= read -r url; do
  printf 'url = "%s"\noutput = "/dev/null"\n' "$url" >>"$config"
done <"$urls"
curl -sS --fail --cacert "$ca" -H "Authorization: Bearer $token" -K "$config"
