#!/usr/bin/env bash
# Invoke the deployed function once with a request body from a file or stdin.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PROG=invoke.sh
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=names.sh
. "$HERE/names.sh"

usage() {
	cat <<'EOF'
Usage: deploy/invoke.sh [options] [--body-file FILE]   (body on stdin without it)

Runs the deployed function once and prints its JSON answer on stdout. Uses
`fn invoke APP FUNCTION` when the Fn CLI is on PATH, otherwise (or with
--use-oci) `oci fn function invoke --function-id ... --file - --body ...`.

Bodies (see the README): an OCI Events payload, a manual request
  {"volumeGroupBackupId": "ocid1.volumegroupbackup...", "dryRun": true}
or a sweep request {"sweep": {"compartmentId": "...", "dryRun": true}}.

Options:
  --body-file FILE        request body (JSON); '-' or omitted: stdin
  --app NAME              application name (default: backup-tag-sync)
  --function NAME         function name (default: name in func.yaml, else backup-tag-sync)
  --function-id OCID      invoke this function with oci (no look-up)
  --compartment OCID      compartment of the application (for the oci
                          look-up of the function OCID when --function-id is not given)
  --use-oci               use oci even when fn is on PATH
  --region REGION         passed to oci
  --dry-run               print the invoke command, do not run it
  -h, --help              this help
EOF
}

APP=backup-tag-sync
FUNC_NAME=""
FUNCTION_ID=""
COMPARTMENT=""
BODY_FILE="-"
USE_OCI=0

while [[ $# -gt 0 ]]; do
	case "$1" in
	--body-file) [[ -n "${2:-}" ]] || die "--body-file needs a value" && BODY_FILE=$2 && shift 2 ;;
	--app) require_value "$1" "${2:-}" && APP=$2 && shift 2 ;;
	--function) require_value "$1" "${2:-}" && FUNC_NAME=$2 && shift 2 ;;
	--function-id) require_value "$1" "${2:-}" && FUNCTION_ID=$2 && shift 2 ;;
	--compartment) require_value "$1" "${2:-}" && COMPARTMENT=$2 && shift 2 ;;
	--use-oci) USE_OCI=1 && shift ;;
	--region) require_value "$1" "${2:-}" && OCI_REGION=$2 && shift 2 ;;
	--dry-run) PRINT_ONLY=1 && shift ;;
	-h | --help) usage && exit 0 ;;
	*) usage_error "unknown option '$1' (see --help)" ;;
	esac
done

if [[ -z "$FUNC_NAME" ]]; then
	FUNC_NAME=$(func_yaml_name "$ROOT" || true)
	FUNC_NAME=${FUNC_NAME:-backup-tag-sync}
fi

if [[ "$BODY_FILE" == - ]]; then
	[[ ! -t 0 ]] || info "reading the request body from stdin (end with Ctrl-D)"
	BODY=$(cat)
else
	[[ -r "$BODY_FILE" ]] || die "--body-file '$BODY_FILE' is not a readable file"
	BODY=$(cat "$BODY_FILE")
fi
printf '%s' "$BODY" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null ||
	die "the request body is not valid JSON"

if [[ "$USE_OCI" == 0 && -z "$FUNCTION_ID" ]] && command -v fn >/dev/null 2>&1; then
	if [[ "$PRINT_ONLY" == 1 ]]; then
		log "DRY-RUN: $(quote_cmd fn invoke "$APP" "$FUNC_NAME" --content-type application/json) <<< '<body>'"
		exit 0
	fi
	log "+ $(quote_cmd fn invoke "$APP" "$FUNC_NAME" --content-type application/json)"
	printf '%s' "$BODY" | fn invoke "$APP" "$FUNC_NAME" --content-type application/json
	exit $?
fi

command -v oci >/dev/null 2>&1 ||
	die "neither 'fn' nor 'oci' is on PATH. Fix: install the OCI CLI (pip install oci-cli) or the Fn CLI"
if [[ -z "$FUNCTION_ID" ]]; then
	[[ -n "$COMPARTMENT" ]] ||
		die "without fn, give --function-id OCID (printed by deploy.sh) or --compartment OCID to look it up"
	APPS=$(oci_read fn application list --compartment-id "$COMPARTMENT" --display-name "$APP" --all) ||
		die "cannot list applications in $COMPARTMENT"
	APP_JSON=$(find_named "$APPS" display-name "$APP")
	[[ -n "$APP_JSON" ]] || die "application '$APP' not found in $COMPARTMENT: run deploy/deploy.sh first"
	APP_ID=$(json_field "{\"data\": $APP_JSON}" id)
	FUNCS=$(oci_read fn function list --application-id "$APP_ID" --display-name "$FUNC_NAME" --all) ||
		die "cannot list functions of $APP_ID"
	FN_JSON=$(find_named "$FUNCS" display-name "$FUNC_NAME")
	[[ -n "$FN_JSON" ]] || die "function '$FUNC_NAME' not found in application '$APP': run deploy/deploy.sh first"
	FUNCTION_ID=$(json_field "{\"data\": $FN_JSON}" id)
fi
cmd=(oci_cli fn function invoke --function-id "$FUNCTION_ID" --file - --body "$BODY")
if [[ "$PRINT_ONLY" == 1 ]]; then
	log "DRY-RUN: $(quote_cmd oci fn function invoke --function-id "$FUNCTION_ID" --file - --body "$BODY")"
	exit 0
fi
log "+ $(quote_cmd oci fn function invoke --function-id "$FUNCTION_ID" --file - --body '<body>')"
"${cmd[@]}"
echo
