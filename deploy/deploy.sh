#!/usr/bin/env bash
# Deploy backup-tag-sync to OCI Functions: application, function, config, invocation log,
# reconcile schedules, dynamic group, IAM policy, Events rule and alarms, in one region or
# several. Idempotent; see --help.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PROG=deploy.sh
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=names.sh
. "$HERE/names.sh"
# shellcheck source=steps.sh
. "$HERE/steps.sh"
# shellcheck source=ops.sh
. "$HERE/ops.sh"

usage() {
	cat <<'EOF'
Usage: deploy/deploy.sh --compartment OCID --subnet OCID [options]

Takes a tenancy to a running backup-tag-sync function, with its invocation log, a daily and
a weekly reconcile schedule and (with --notify-email or --notify-topic) alarms. Safe to re-run:
a second run creates nothing and updates only what drifted.

Required:
  --compartment OCID          compartment for the application, function, logs, schedules, alarms
  --subnet OCID               subnet the application's functions run in (with --regions:
                              repeat it, one per region; its OCID names its region)

Options:
  --app NAME                  Functions application name (default: backup-tag-sync)
  --tag-namespace NS          defined-tag namespace the function may apply (repeatable)
  --tag-namespace-compartment OCID
                              compartment holding the tag namespaces (default: the tenancy)
  --target-compartment OCID   compartment whose backups the function may update, whose backup
                              events trigger it and which the schedules sweep
                              (repeatable; default: --compartment)
  --member-compartment OCID   compartment of volumes whose backups are members of group backups
                              in the targets (a rule with `members: tags`; repeatable)
  --policy-uri URI            TAG_POLICY_URI for the function (file://, oci://bucket@ns/object, s3://)
  --policy-file FILE          put FILE inline in TAG_POLICY instead
                              (default for both: the tag_policy.yaml in the image)
  --policy-bucket BUCKET      upload --policy-file to this Object Storage bucket and set
                              TAG_POLICY_URI to it (for a policy too large for function config)
  --skip-policy-check         do not run `python -m sync lint POLICY --live` before deploying
  --log-level LEVEL           LOG_LEVEL: debug|info|warning|error (default: info, or as set)
  --dry-run-writes            set DRY_RUN=true on the function (it computes and logs, never writes)
  --metrics-compartment OCID  where the function posts its metrics (default: --compartment)
  --no-metrics                the function posts no metrics (no METRICS_COMPARTMENT_ID, no grant)
  --reconcile-schedule CRON   daily reconcile, sweeping backups of the last 2 days
                              (default: '0 3 * * *', 03:00 UTC)
  --full-reconcile-schedule CRON
                              weekly full reconcile (default: '0 4 * * 0', Sunday 04:00 UTC)
  --no-reconcile              no schedules (removes the ones an earlier run created)
  --notify-email ADDR         create a Notifications topic with an email subscription, and alarms
                              on failed outcomes and on the function's errors
  --notify-topic OCID         send the alarms to this existing topic instead
  --log-retention-days N      invocation log retention, 30..180 in steps of 30 (default: 30)
  --name-prefix PREFIX        prefix of every other name (PREFIX-dg, -policy, -rule, -logs, ...;
                              default: the --app name)
  --tenancy OCID              tenancy OCID (default: OCI_TENANCY, or tenancy= in ~/.oci/config)
  --rule-compartment OCID     compartment of the Events rule (default: --compartment when it is
                              the only target, else the tenancy)
  --region REGION             passed to every oci command (fn uses its context)
  --regions LIST|subscribed   deploy to each region of LIST (comma-separated) or to every region
                              the tenancy subscribes to; IAM stays tenancy-wide
  --skip-build                do not run `fn deploy` when the function already exists
  --no-bump                   pass --no-bump to `fn deploy` (keep func.yaml's version)
  --dry-run                   print every command that would change something, change nothing
  --yes                       do not ask for confirmation
  -h, --help                  this help

Prints what it created, updated or kept, and the function OCID(s) on stdout.
EOF
}

APP=backup-tag-sync
COMPARTMENT=""
SUBNETS=()
TAG_NAMESPACES=()
TAG_NS_COMPARTMENT=""
TARGETS=()
MEMBER_COMPARTMENTS=()
POLICY_URI=""
POLICY_BUCKET=""
POLICY_FILE=""
LOG_LEVEL=""
DRY_RUN_WRITES=0
NAME_PREFIX=""
TENANCY_ARG=""
RULE_COMPARTMENT=""
SKIP_BUILD=0
NO_BUMP=0
SKIP_POLICY_CHECK=0
METRICS_ARG=""
NO_METRICS=0
DAILY_CRON="0 3 * * *"
WEEKLY_CRON="0 4 * * 0"
RECONCILE_SINCE="2d"
NO_RECONCILE=0
NOTIFY_EMAIL=""
NOTIFY_TOPIC=""
LOG_RETENTION_DAYS=30
REGIONS_ARG=""

while [[ $# -gt 0 ]]; do
	case "$1" in
	--compartment) require_value "$1" "${2:-}" && COMPARTMENT=$2 && shift 2 ;;
	--subnet) require_value "$1" "${2:-}" && SUBNETS+=("$2") && shift 2 ;;
	--app) require_value "$1" "${2:-}" && APP=$2 && shift 2 ;;
	--tag-namespace) require_value "$1" "${2:-}" && TAG_NAMESPACES+=("$2") && shift 2 ;;
	--tag-namespace-compartment) require_value "$1" "${2:-}" && TAG_NS_COMPARTMENT=$2 && shift 2 ;;
	--target-compartment) require_value "$1" "${2:-}" && TARGETS+=("$2") && shift 2 ;;
	--member-compartment) require_value "$1" "${2:-}" && MEMBER_COMPARTMENTS+=("$2") && shift 2 ;;
	--policy-bucket) require_value "$1" "${2:-}" && POLICY_BUCKET=$2 && shift 2 ;;
	--policy-uri) require_value "$1" "${2:-}" && POLICY_URI=$2 && shift 2 ;;
	--policy-file) require_value "$1" "${2:-}" && POLICY_FILE=$2 && shift 2 ;;
	--skip-policy-check) SKIP_POLICY_CHECK=1 && shift ;;
	--log-level) require_value "$1" "${2:-}" && LOG_LEVEL=$2 && shift 2 ;;
	--dry-run-writes) DRY_RUN_WRITES=1 && shift ;;
	--metrics-compartment) require_value "$1" "${2:-}" && METRICS_ARG=$2 && shift 2 ;;
	--no-metrics) NO_METRICS=1 && shift ;;
	--reconcile-schedule) require_value "$1" "${2:-}" && DAILY_CRON=$2 && shift 2 ;;
	--full-reconcile-schedule) require_value "$1" "${2:-}" && WEEKLY_CRON=$2 && shift 2 ;;
	--no-reconcile) NO_RECONCILE=1 && shift ;;
	--notify-email) require_value "$1" "${2:-}" && NOTIFY_EMAIL=$2 && shift 2 ;;
	--notify-topic) require_value "$1" "${2:-}" && NOTIFY_TOPIC=$2 && shift 2 ;;
	--log-retention-days) require_value "$1" "${2:-}" && LOG_RETENTION_DAYS=$2 && shift 2 ;;
	--name-prefix) require_value "$1" "${2:-}" && NAME_PREFIX=$2 && shift 2 ;;
	--tenancy) require_value "$1" "${2:-}" && TENANCY_ARG=$2 && shift 2 ;;
	--rule-compartment) require_value "$1" "${2:-}" && RULE_COMPARTMENT=$2 && shift 2 ;;
	--region) require_value "$1" "${2:-}" && OCI_REGION=$2 && shift 2 ;;
	--regions) require_value "$1" "${2:-}" && REGIONS_ARG=$2 && shift 2 ;;
	--skip-build) SKIP_BUILD=1 && shift ;;
	--no-bump) NO_BUMP=1 && shift ;;
	--dry-run) PRINT_ONLY=1 && shift ;;
	--yes | -y) ASSUME_YES=1 && shift ;;
	-h | --help) usage && exit 0 ;;
	*) usage_error "unknown option '$1' (see --help)" ;;
	esac
done

# ---- validate options (no CLI call yet; a bad value exits 2) ------------------------------

[[ -n "$COMPARTMENT" ]] || usage_error "--compartment OCID is required (the compartment for the application; see --help)"
[[ ${#SUBNETS[@]} -gt 0 ]] || usage_error "--subnet OCID is required (a subnet for the application's functions; see --help)"
check_ocid --compartment "$COMPARTMENT" compartment tenancy
for s in "${SUBNETS[@]}"; do check_ocid --subnet "$s" subnet; done
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=("$COMPARTMENT")
for t in "${TARGETS[@]}"; do check_ocid --target-compartment "$t" compartment tenancy; done
for t in "${MEMBER_COMPARTMENTS[@]+"${MEMBER_COMPARTMENTS[@]}"}"; do check_ocid --member-compartment "$t" compartment tenancy; done
[[ -z "$TAG_NS_COMPARTMENT" ]] || check_ocid --tag-namespace-compartment "$TAG_NS_COMPARTMENT" compartment tenancy
[[ -z "$RULE_COMPARTMENT" ]] || check_ocid --rule-compartment "$RULE_COMPARTMENT" compartment tenancy
[[ -z "$TENANCY_ARG" ]] || check_ocid --tenancy "$TENANCY_ARG" tenancy
[[ -z "$METRICS_ARG" ]] || check_ocid --metrics-compartment "$METRICS_ARG" compartment tenancy
[[ -z "$NOTIFY_TOPIC" ]] || check_ocid --notify-topic "$NOTIFY_TOPIC" onstopic
[[ -z "$NOTIFY_EMAIL" ]] || check_email --notify-email "$NOTIFY_EMAIL"
[[ -z "$NOTIFY_EMAIL" || -z "$NOTIFY_TOPIC" ]] || usage_error "give either --notify-email or --notify-topic, not both"
[[ -z "$NOTIFY_TOPIC" || -z "$REGIONS_ARG" ]] ||
	usage_error "--notify-topic names one region's topic and alarms need one in their own region: with --regions use --notify-email"
[[ -z "$METRICS_ARG" || "$NO_METRICS" == 0 ]] || usage_error "give either --metrics-compartment or --no-metrics, not both"
[[ -z "$OCI_REGION" ]] || check_region --region "$OCI_REGION"
[[ -z "$OCI_REGION" || -z "$REGIONS_ARG" ]] || usage_error "give either --region or --regions, not both"
check_cron --reconcile-schedule "$DAILY_CRON"
check_cron --full-reconcile-schedule "$WEEKLY_CRON"
case "$LOG_RETENTION_DAYS" in
30 | 60 | 90 | 120 | 150 | 180) ;;
*) usage_error "--log-retention-days must be 30, 60, 90, 120, 150 or 180 (Logging keeps logs in 30-day steps)" ;;
esac
check_name --app "$APP"
[[ -z "$NAME_PREFIX" ]] || check_name --name-prefix "$NAME_PREFIX"
[[ -z "$POLICY_URI" || -z "$POLICY_FILE" ]] || usage_error "give either --policy-uri or --policy-file, not both"
if [[ -n "$POLICY_URI" ]]; then
	case "$POLICY_URI" in
	file://* | oci://* | s3://*) ;;
	*) usage_error "--policy-uri must start with file://, oci:// or s3:// (got '$POLICY_URI')" ;;
	esac
	[[ "$POLICY_URI" != *[[:cntrl:]]* ]] || usage_error "--policy-uri contains control characters"
fi
[[ -z "$POLICY_FILE" || -r "$POLICY_FILE" ]] || usage_error "--policy-file '$POLICY_FILE' is not a readable file"
if [[ -n "$POLICY_BUCKET" ]]; then
	[[ -n "$POLICY_FILE" ]] || usage_error "--policy-bucket needs --policy-file FILE (the policy to upload)"
	[[ -z "$REGIONS_ARG" ]] || usage_error "--policy-bucket with --regions: a bucket is regional; upload the policy in each region and pass --policy-uri per region instead"
	[[ "$POLICY_BUCKET" =~ ^[A-Za-z0-9_.-]{1,256}$ ]] || usage_error "--policy-bucket $(printf '%q' "$POLICY_BUCKET") is not a valid bucket name"
fi
if [[ -n "$LOG_LEVEL" ]]; then
	case "$LOG_LEVEL" in
	debug | info | warning | error) ;;
	*) usage_error "--log-level must be one of debug, info, warning, error (got '$LOG_LEVEL')" ;;
	esac
fi
for ns in "${TAG_NAMESPACES[@]+"${TAG_NAMESPACES[@]}"}"; do check_tag_namespace --tag-namespace "$ns"; done
REGIONS=()
if [[ -n "$REGIONS_ARG" && "$REGIONS_ARG" != subscribed ]]; then
	IFS=',' read -r -a REGIONS <<<"$REGIONS_ARG"
	for r in "${REGIONS[@]}"; do check_region --regions "$r"; done
	# Each region once, in the order given (`--regions r,r` must not deploy r twice).
	read -r -a REGIONS <<<"$(printf '%s\n' "${REGIONS[@]}" | awk '!seen[$0]++' | tr '\n' ' ')"
fi
BUCKET="" OS_NS=""
if [[ "$POLICY_URI" == oci://* ]]; then
	rest=${POLICY_URI#oci://}
	[[ "$rest" == *@*/* ]] || usage_error "--policy-uri '$POLICY_URI' is not oci://bucket@namespace/object"
	BUCKET=${rest%%@*}
	OS_NS=${rest#*@}
	OS_NS=${OS_NS%%/*}
	check_bucket "$BUCKET" "$OS_NS"
fi
resource_names "$ROOT"

# shellcheck source=prereqs.sh
. "$HERE/prereqs.sh"

# ---- the desired state ------------------------------------------------------------------------

# Location phrase for a compartment in a policy statement (the root must be written `in tenancy`).
where_in() {
	if [[ "$1" == "$TENANCY" ]]; then printf 'tenancy'; else printf 'compartment id %s' "$1"; fi
}

# The IAM statements: one source with `doctor` (sync/cli/doctor/needs.py), from the policy's
# kinds and namespaces and what this run found (schedules, bucket, metrics compartment).
desired_statements() {
	local args=() sid
	for sid in "${SCHEDULE_IDS[@]+"${SCHEDULE_IDS[@]}"}"; do args+=(--schedule "$sid"); done
	needs_json "${args[@]+"${args[@]}"}" | json_eval 'd["statements"]'
}

desired_matching_rule() {
	# One function: exactly it. Several regions: any of their OCIDs (an OCID names one resource).
	if [[ ${#FN_IDS[@]} -eq 1 ]]; then
		printf "ALL {resource.type = 'fnfunc', resource.id = '%s'}" "${FN_IDS[0]}"
	else
		printf '%s\n' "${FN_IDS[@]}" | python3 -c 'import sys
ids = [l for l in sys.stdin.read().splitlines() if l]
print("ANY {" + ", ".join("resource.id = %r" % i for i in ids) + "}")'
	fi
}

# ---- summary -------------------------------------------------------------------------------------

SUMMARY=()
REGION_LABEL=""
record() {
	# record KIND NAME ACTION ID
	SUMMARY+=("$(printf '%-14s %-15s %-32s %-9s %s' "$1" "${REGION_LABEL:--}" "$2" "$3" "$4")")
	info "$3 $1 $2: $4"
}

CONDITION=$(printf '%s' "$NEEDS" | json_eval 'd["condition"]')
log ""
info "plan: application '$APP' and function '$FUNC_NAME' in $COMPARTMENT, region(s): ${REGIONS[*]:-default}"
info "      dynamic group '$DG_NAME' and policy '$POLICY_NAME' in the tenancy, rule '$RULE_NAME' in $RULE_COMPARTMENT"
info "      log group '$LOG_GROUP_NAME'; schedules: $([[ "$NO_RECONCILE" == 1 ]] && printf none || printf "'%s' daily and '%s' weekly" "$DAILY_CRON" "$WEEKLY_CRON")"
info "      alarms: ${NOTIFY_EMAIL:-${NOTIFY_TOPIC:-none (give --notify-email ADDR)}}; targets: ${TARGETS[*]}"
info "      backup kinds: $(printf '%s' "$NEEDS" | json_eval '", ".join(d["kinds"]) + (" (members: " + ", ".join(d["memberKinds"]) + ")" if d["memberKinds"] else "")')"
info "      event types: $(printf '%s' "$NEEDS" | json_eval '", ".join(t.rsplit(".", 2)[-2] + ".end" for t in d["eventTypes"])')"
info "      tag namespaces (use): $(printf '%s' "$NEEDS" | json_eval '", ".join(d["namespaces"]) or "none"')"
confirm "Create or update these resources?"

# ---- per region: application, function, config, logs, schedules ----------------------------------

FN_IDS=()
SCHEDULE_IDS=()
declare -A FN_BY_REGION=()
for REGION in "${REGIONS[@]}"; do
	OCI_REGION=$REGION
	REGION_LABEL=${REGION:-}
	SUBNET=${SUBNET_BY_REGION[$(rkey "$REGION")]}
	FN_ENV_REGISTRY=${REGISTRY_BY_REGION[$(rkey "$REGION")]:-}
	step "Region ${REGION:-(CLI default)}: application '$APP', function '$FUNC_NAME', logs, schedules"
	ensure_application
	ensure_function
	[[ -z "$POLICY_BUCKET" ]] || ensure_policy_object
	ensure_config
	ensure_logs
	if [[ "$NO_RECONCILE" == 0 ]]; then
		ensure_schedules "$DAILY_NAME" "$DAILY_CRON" "$RECONCILE_SINCE"
		ensure_schedules "$WEEKLY_NAME" "$WEEKLY_CRON" ""
	else
		drop_schedules "$DAILY_NAME"
		drop_schedules "$WEEKLY_NAME"
	fi
	FN_IDS+=("$FN_ID")
	FN_BY_REGION[$(rkey "$REGION")]=$FN_ID
done

# ---- IAM, tenancy-wide ------------------------------------------------------------------------

OCI_REGION=$IAM_REGION
REGION_LABEL=tenancy
step "Dynamic group '$DG_NAME' and IAM policy '$POLICY_NAME'"
MATCHING_RULE=$(desired_matching_rule)
STATEMENTS=$(desired_statements)
ensure_dynamic_group
ensure_policy

# ---- per region: Events rule, alarms ------------------------------------------------------------

for REGION in "${REGIONS[@]}"; do
	OCI_REGION=$REGION
	REGION_LABEL=${REGION:-}
	FN_ID=${FN_BY_REGION[$(rkey "$REGION")]}
	step "Region ${REGION:-(CLI default)}: Events rule '$RULE_NAME'$([[ -n "$NOTIFY_EMAIL$NOTIFY_TOPIC" ]] && printf ', topic and alarms')"
	ensure_rule
	if [[ -n "$NOTIFY_EMAIL$NOTIFY_TOPIC" ]]; then
		ensure_topic
		if [[ -n "$METRICS_COMPARTMENT" ]]; then
			ensure_alarm "$ALARM_FAILED_NAME" "$METRICS_COMPARTMENT" backup_tag_sync \
				'outcomes[1h]{status = "failed"}.sum() > 0' CRITICAL \
				"backup-tag-sync: backups failed in the last hour. Runbook: README 'Operating it'. Logs: log group $LOG_GROUP_NAME, log $LOG_NAME."
		fi
		ensure_alarm "$ALARM_ERRORS_NAME" "$COMPARTMENT" oci_faas \
			"FunctionResponseCount[1h]{resourceId = \"$FN_ID\", responseType = \"Error\"}.sum() > 0" ERROR \
			"backup-tag-sync: the function answered errors (crash, timeout, out of memory) in the last hour. Runbook: README 'Operating it'."
	fi
done

# ---- summary ------------------------------------------------------------------------------------

log ""
if [[ "$PRINT_ONLY" == 1 ]]; then
	log "Summary (dry run: nothing was changed; 'created'/'updated' = would be):"
else
	log "Summary:"
fi
for line in "${SUMMARY[@]}"; do log "  $line"; done
[[ -n "$NOTIFY_EMAIL$NOTIFY_TOPIC" ]] || log "  (no alarms: give --notify-email ADDR or --notify-topic OCID to be told of failures)"
log ""
for REGION in "${REGIONS[@]}"; do log "function OCID${REGION:+ ($REGION)}: ${FN_BY_REGION[$(rkey "$REGION")]}"; done
log "try it: deploy/invoke.sh --app $APP --body-file request.json"
for REGION in "${REGIONS[@]}"; do printf '%s\n' "${FN_BY_REGION[$(rkey "$REGION")]}"; done
