# shellcheck shell=bash
# shellcheck disable=SC2034 # names used by the scripts that source this file
# Option values checked against OCI's naming rules, and the names of everything deploy.sh
# creates, derived in one place so teardown.sh finds exactly them (sourced, not executed).
#
# Every name is checked before any command runs; a bad one is a usage error (exit 2) that
# states the rule. The rule for names built from --app and --name-prefix is the strictest
# of the services that receive them, so every derived name is valid everywhere:
#   - IAM dynamic group and policy names: letters, numerals, hyphens, periods, underscores,
#     no spaces, at most 100 characters (Oracle: "Creating a Policy", "Managing Dynamic Groups");
#   - Notifications topic names: letters, numbers, hyphens, underscores, at most 256
#     (Oracle: CreateTopicDetails.name), so no periods;
#   - Functions application names are also the Fn application name `fn deploy --app` takes.
# Hence: a letter, then letters, digits, '-' or '_', at most 64 characters (the longest
# suffix added is 17, "-reconcile-weekly", which stays under IAM's 100).

NAME_RULE="a letter, then letters, digits, '-' or '_' (at most 64 characters; no spaces, periods, quotes or control characters)"
OCID_RE='^ocid1\.[a-z0-9]+\.[a-z0-9]+\.[a-z0-9-]*(\.[a-z0-9-]*)?\.[A-Za-z0-9_-]+$'

require_value() {
	# require_value OPTION VALUE: for "--opt VALUE" parsing.
	[[ -n "${2:-}" && "${2:0:2}" != "--" ]] || usage_error "$1 needs a value (see --help)"
}

check_name() {
	# check_name OPTION VALUE
	[[ "$2" =~ ^[A-Za-z][A-Za-z0-9_-]{0,63}$ ]] ||
		usage_error "$1 $(printf '%q' "$2") is not a valid name: it must be $NAME_RULE"
}

check_ocid() {
	# check_ocid OPTION VALUE KIND...: a well-formed OCID of one of the kinds
	# (ocid1.<kind>.<realm>.[region].<unique id>).
	local opt=$1 v=$2 k
	shift 2
	[[ "$v" =~ $OCID_RE ]] ||
		usage_error "$opt $(printf '%q' "$v") is not an OCID (ocid1.$1.<realm>.[region].<id>: lowercase letters, digits, '.', '-', '_')"
	for k in "$@"; do [[ "$v" == "ocid1.$k."* ]] && return 0; done
	usage_error "$opt $v is an OCID of another kind (expected ocid1.$1....)"
}

check_tag_namespace() {
	# Tag namespace names: letters, numbers, '-', '_', at most 100 (Oracle: CreateTagNamespaceDetails.name).
	[[ "$2" =~ ^[A-Za-z0-9_-]{1,100}$ ]] ||
		usage_error "$1 $(printf '%q' "$2") is not a valid tag namespace name: letters, digits, '-' and '_', at most 100"
}

check_region() {
	[[ "$2" =~ ^[a-z]+-[a-z]+-[0-9]+$ ]] ||
		usage_error "$1 $(printf '%q' "$2") is not a region identifier (like us-ashburn-1)"
}

check_cron() {
	# Five cron fields (minute hour day-of-month month day-of-week), as Resource Scheduler's
	# CRON recurrence takes them.
	[[ "$2" =~ ^[0-9*/,-]+\ [0-9*/,-]+\ [0-9*/,?LW-]+\ [0-9A-Za-z*/,-]+\ [0-9A-Za-z*/,?L#-]+$ ]] ||
		usage_error "$1 $(printf '%q' "$2") is not a 5-field cron expression (e.g. '0 3 * * *': 03:00 UTC daily)"
}

check_email() {
	[[ "$2" =~ ^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$ ]] ||
		usage_error "$1 $(printf '%q' "$2") is not an email address"
}

check_bucket() {
	# Object Storage bucket names: letters, numbers, '-', '_', '.', at most 256? Oracle: 1-256
	# of [A-Za-z0-9_.-] (CreateBucketDetails.name); namespace: lowercase letters and digits.
	[[ "$1" =~ ^[A-Za-z0-9_.-]{1,256}$ ]] || usage_error "--policy-uri bucket $(printf '%q' "$1") is not a valid bucket name"
	[[ "$2" =~ ^[a-z0-9]{1,64}$ ]] || usage_error "--policy-uri namespace $(printf '%q' "$2") is not a valid Object Storage namespace"
}

# Names of what deploy.sh creates. Usage: resource_names PROJECT_ROOT. Reads APP and
# NAME_PREFIX; sets NAME_PREFIX and the *_NAME variables (FUNC_NAME from func.yaml).
resource_names() {
	NAME_PREFIX=${NAME_PREFIX:-$APP}
	DG_NAME="$NAME_PREFIX-dg"
	POLICY_NAME="$NAME_PREFIX-policy"
	RULE_NAME="$NAME_PREFIX-rule"
	LOG_GROUP_NAME="$NAME_PREFIX-logs"
	LOG_NAME="$NAME_PREFIX-invoke"
	DAILY_NAME="$NAME_PREFIX-reconcile-daily"
	WEEKLY_NAME="$NAME_PREFIX-reconcile-weekly"
	TOPIC_NAME="$NAME_PREFIX-alerts"
	ALARM_FAILED_NAME="$NAME_PREFIX-failed-outcomes"
	ALARM_ERRORS_NAME="$NAME_PREFIX-function-errors"
	FUNC_NAME=$(func_yaml_name "$1" || true)
	FUNC_NAME=${FUNC_NAME:-backup-tag-sync}
	check_name "func.yaml name:" "$FUNC_NAME"
}
