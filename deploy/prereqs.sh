# shellcheck shell=bash
# deploy.sh's prerequisites (sourced after option parsing): read-only checks, all before the
# first change, each stopping with the fix. Sets TENANCY, REGIONS, IAM_REGION,
# SUBNET_BY_REGION, REGISTRY_BY_REGION, METRICS_COMPARTMENT, BUCKET_COMPARTMENT, BUILD, FN_UPDATE,
# NEEDS_PY and NEEDS (what the policy needs: kinds, event types, namespaces; see needs_json).

step "Checking prerequisites"
require_oci_cli
command -v fn >/dev/null 2>&1 ||
	die "the Fn CLI ('fn') is not on PATH. Fix: install it (https://github.com/fnproject/cli#install) and create an OCI context ('fn create context ... --provider oracle')"
info "oci: $(command -v oci); fn: $(command -v fn)"
info "OCI CLI authenticated"

TENANCY=$(resolve_tenancy "$TENANCY_ARG" || true)
[[ -n "$TENANCY" ]] ||
	die "cannot tell the tenancy OCID: pass --tenancy OCID, or set OCI_TENANCY, or keep 'tenancy=' in your ~/.oci/config profile"
check_ocid --tenancy "$TENANCY" tenancy
TAG_NS_COMPARTMENT=${TAG_NS_COMPARTMENT:-$TENANCY}
if [[ -z "$RULE_COMPARTMENT" ]]; then
	RULE_COMPARTMENT=$TENANCY
	[[ ${#TARGETS[@]} -ne 1 || "${TARGETS[0]}" != "$COMPARTMENT" ]] || RULE_COMPARTMENT=$COMPARTMENT
fi
METRICS_COMPARTMENT=""
[[ "$NO_METRICS" == 1 ]] || METRICS_COMPARTMENT=${METRICS_ARG:-$COMPARTMENT}

# ---- regions ---------------------------------------------------------------------------------

# Map keys: the region, or "_" for the CLI's default region.
rkey() { printf '%s' "${1:-_}"; }
declare -A SUBNET_BY_REGION=() REGISTRY_BY_REGION=()
IAM_REGION=$OCI_REGION
if [[ -n "$REGIONS_ARG" ]]; then
	SUBS=$(oci_read iam region-subscription list --tenancy-id "$TENANCY") ||
		die "cannot list the tenancy's region subscriptions"
	IAM_REGION=$(printf '%s' "$SUBS" | json_eval 'first(o["region-name"] for o in items if o.get("is-home-region"))')
	READY=$(printf '%s' "$SUBS" | json_eval '" ".join(o["region-name"] for o in items if o.get("status") == "READY")')
	if [[ "$REGIONS_ARG" == subscribed ]]; then
		read -r -a REGIONS <<<"$READY"
	fi
	for r in "${REGIONS[@]}"; do
		[[ " $READY " == *" $r "* ]] || die "the tenancy does not subscribe to region $r (subscribed: $READY). Fix: subscribe to it, or leave it out of --regions"
	done
	info "regions: ${REGIONS[*]} (IAM in the home region $IAM_REGION)"
	# Each region's subnet: the one whose OCID names the region (by name or by its key).
	for r in "${REGIONS[@]}"; do
		key=$(printf '%s' "$OCI_REGIONS_JSON" | R="$r" json_eval 'first(o["key"].lower() for o in items if o.get("name") == E["R"])')
		for s in "${SUBNETS[@]}"; do
			part=$(cut -d. -f4 <<<"$s")
			[[ "$part" != "$r" && "$part" != "$key" ]] || SUBNET_BY_REGION[$r]=$s
		done
		[[ -n "${SUBNET_BY_REGION[$r]:-}" ]] ||
			die "no --subnet for region $r: give one subnet per region (its OCID names its region: ocid1.subnet.oc1.${key:-<key>}....)"
		REGISTRY_BY_REGION[$r]=$key
	done
else
	REGIONS=("$OCI_REGION")
	[[ ${#SUBNETS[@]} -eq 1 ]] || usage_error "several --subnet need --regions (one subnet per region)"
	SUBNET_BY_REGION[$(rkey "$OCI_REGION")]=${SUBNETS[0]}
fi

check_compartment() {
	# check_compartment OCID WHAT
	local out
	out=$(oci_read iam compartment get --compartment-id "$1") ||
		die "$2 $1 was not found or you cannot see it. Fix: check the OCID ('oci iam compartment list --compartment-id-in-subtree true --all') and that your user may read it"
	info "$2 found: $(json_field "$out" name) ($1)"
}
check_compartment "$COMPARTMENT" "compartment (--compartment)"
for t in "${TARGETS[@]}"; do
	[[ "$t" == "$COMPARTMENT" ]] || check_compartment "$t" "target compartment (--target-compartment)"
done
if [[ "$TAG_NS_COMPARTMENT" != "$TENANCY" ]]; then
	check_compartment "$TAG_NS_COMPARTMENT" "tag namespace compartment (--tag-namespace-compartment)"
fi
if [[ "$RULE_COMPARTMENT" != "$TENANCY" && "$RULE_COMPARTMENT" != "$COMPARTMENT" ]]; then
	check_compartment "$RULE_COMPARTMENT" "rule compartment (--rule-compartment)"
fi
if [[ -n "$METRICS_COMPARTMENT" && "$METRICS_COMPARTMENT" != "$COMPARTMENT" && "$METRICS_COMPARTMENT" != "$TENANCY" ]]; then
	check_compartment "$METRICS_COMPARTMENT" "metrics compartment (--metrics-compartment)"
fi

for r in "${REGIONS[@]}"; do
	s=${SUBNET_BY_REGION[$(rkey "$r")]}
	OCI_REGION=$r
	SUBNET_JSON=$(oci_read network subnet get --subnet-id "$s") ||
		die "subnet $s was not found${r:+ in $r}. Fix: pass the OCID of an existing subnet ('oci network subnet list --compartment-id $COMPARTMENT'), or create a VCN with a private subnet and a service gateway first"
	info "subnet found: $(json_field "$SUBNET_JSON" display-name) ($s)"
done
OCI_REGION=$IAM_REGION

if [[ ${#TAG_NAMESPACES[@]} -gt 0 ]]; then
	NS_JSON=$(oci_read iam tag-namespace list --compartment-id "$TAG_NS_COMPARTMENT" --all) ||
		die "cannot list tag namespaces in $TAG_NS_COMPARTMENT. Fix: check --tag-namespace-compartment and your permissions"
	for ns in "${TAG_NAMESPACES[@]}"; do
		[[ -n "$(find_named "$NS_JSON" name "$ns")" ]] ||
			warn "tag namespace '$ns' not found in $TAG_NS_COMPARTMENT: the policy will name it anyway; create it or pass --tag-namespace-compartment"
	done
fi

BUCKET_COMPARTMENT=""
POLICY_OBJECT=""
if [[ -n "$POLICY_BUCKET" ]]; then
	OS_NS=$(oci_read os ns get | json_eval 'd.get("data")') ||
		die "cannot read the tenancy's Object Storage namespace ('oci os ns get')"
	BUCKET=$POLICY_BUCKET
	POLICY_OBJECT="$NAME_PREFIX/tag_policy.yaml"
	POLICY_URI="oci://$BUCKET@$OS_NS/$POLICY_OBJECT"
fi
if [[ -n "$BUCKET" ]]; then
	B_JSON=$(oci_read os bucket get --namespace-name "$OS_NS" --bucket-name "$BUCKET") ||
		die "bucket '$BUCKET' in namespace '$OS_NS' not found. Fix: create it and upload the policy ('oci os object put --bucket-name $BUCKET --file tag_policy.yaml'), or fix --policy-uri"
	BUCKET_COMPARTMENT=$(json_field "$B_JSON" compartment-id)
	info "policy bucket found: $BUCKET (compartment $BUCKET_COMPARTMENT)"
fi
[[ "$POLICY_URI" != s3://* ]] ||
	warn "s3:// policy: the function needs S3 credentials and S3_ENDPOINT_URL in its config; this script does not set them"

# IAM names are tenancy-wide: one of ours already taken by someone else stops us here.
DG_LIST=$(oci_read iam dynamic-group list --compartment-id "$TENANCY" --name "$DG_NAME" --all) ||
	die "cannot list dynamic groups in the tenancy (you need to be allowed to manage dynamic-groups)"
POLICY_LIST=$(oci_read iam policy list --compartment-id "$TENANCY" --name "$POLICY_NAME" --all) ||
	die "cannot list policies in the tenancy"
not_ours() {
	die "a $1 named '$2' exists but has no managed-by=backup-tag-sync tag, so it is not ours to change. Fix: pass --name-prefix to use other names"
}
lookup "$DG_LIST" name "$DG_NAME"
[[ -z "$FOUND_ID" || "$FOUND_MARKED" == 1 ]] || not_ours "dynamic group" "$DG_NAME"
lookup "$POLICY_LIST" name "$POLICY_NAME"
[[ -z "$FOUND_ID" || "$FOUND_MARKED" == 1 ]] || not_ours policy "$POLICY_NAME"

# ---- build: fn deploy needs an OCI context, a registry, docker --------------------------------

BUILD=1
if [[ "$SKIP_BUILD" == 1 ]]; then
	# --skip-build only helps where the function exists; otherwise it must be built.
	BUILD=0
	for r in "${REGIONS[@]}"; do
		OCI_REGION=$r
		pre=$(oci_read fn application list --compartment-id "$COMPARTMENT" --display-name "$APP" --all) ||
			die "cannot list applications in $COMPARTMENT"
		lookup "$pre" display-name "$APP"
		if [[ -n "$FOUND_ID" ]]; then
			pre=$(oci_read fn function list --application-id "$FOUND_ID" --display-name "$FUNC_NAME" --all) ||
				die "cannot list functions of $FOUND_ID"
			lookup "$pre" display-name "$FUNC_NAME"
		fi
		if [[ -z "$FOUND_ID" ]]; then
			info "--skip-build given but function '$FUNC_NAME' does not exist${r:+ in $r} yet: it will be built"
			BUILD=1
		fi
	done
	OCI_REGION=$IAM_REGION
fi
if [[ "$BUILD" == 1 ]]; then
	[[ -f "$ROOT/func.yaml" ]] || die "func.yaml not found in $ROOT: run from a checkout of backup-tag-sync"
	command -v docker >/dev/null 2>&1 || command -v podman >/dev/null 2>&1 ||
		die "'fn deploy' builds a container image but neither docker nor podman is on PATH. Fix: install Docker and 'docker login <region-key>.ocir.io', or re-run with --skip-build if the function is already deployed"
	ctx=$(fn inspect context 2>/dev/null) ||
		die "'fn inspect context' failed: no Fn context. Fix: 'fn create context <name> --provider oracle' and 'fn use context <name>'"
	provider=$(sed -n 's/^provider:[[:space:]]*//p' <<<"$ctx" | head -n 1)
	registry=$(sed -n 's/^registry:[[:space:]]*//p' <<<"$ctx" | head -n 1)
	fn_comp=$(sed -n 's/^oracle\.compartment-id:[[:space:]]*//p' <<<"$ctx" | head -n 1)
	[[ "$provider" == oracle* ]] ||
		die "the current Fn context's provider is '${provider:-unset}', not oracle. Fix: 'fn use context <an OCI context>' or 'fn update context provider oracle'"
	[[ -n "$registry" ]] ||
		die "the current Fn context has no registry. Fix: 'fn update context registry <region-key>.ocir.io/<object-storage-namespace>/<repo>'"
	[[ "$fn_comp" == "$COMPARTMENT" ]] ||
		die "the Fn context's oracle.compartment-id is '${fn_comp:-unset}', not $COMPARTMENT, so 'fn deploy' would not find the application. Fix: 'fn update context oracle.compartment-id $COMPARTMENT'"
	info "fn context: provider $provider, registry $registry"
	if [[ -n "$REGIONS_ARG" ]]; then
		# The image goes to each region's registry (<region key>.ocir.io/<same path>): run
		# 'docker login <key>.ocir.io' for each region first.
		for r in "${REGIONS[@]}"; do REGISTRY_BY_REGION[$r]="${REGISTRY_BY_REGION[$r]}.ocir.io/${registry#*/}"; done
	fi
fi
[[ -n "$REGIONS_ARG" ]] || REGISTRY_BY_REGION=()

# `oci fn function update` became a command group (container-function, ...) in newer CLIs;
# older ones take the options directly. Help goes to stdout (exit 0) with older click, to
# stderr (exit 2) with click 8.3+: read both.
FN_UPDATE=(fn function update)
fn_update_help=$(oci fn function update --help 2>&1 || true)
[[ "$fn_update_help" != *container-function* ]] || FN_UPDATE+=(container-function)

# ---- what the policy needs: kinds (event types, grants) and tag namespaces ---------------------

# The policy file the function will run: --policy-file (inline or uploaded), else the image's
# tag_policy.yaml; a remote --policy-uri cannot be read here.
POLICY_LOCAL=""
case "$POLICY_URI" in
"" | file:///function/tag_policy.yaml) POLICY_LOCAL=${POLICY_FILE:-$ROOT/tag_policy.yaml} ;;
"oci://$BUCKET@$OS_NS/$POLICY_OBJECT") POLICY_LOCAL=$POLICY_FILE ;;
esac
# An interpreter that can read the policy with the project's YAML loader.
NEEDS_PY=""
for cand in "${BTS_PYTHON:-}" "$ROOT/.venv/bin/python" python3; do
	[[ -n "$cand" ]] || continue
	if [[ "$(cd "$ROOT" && "$cand" -c 'import sync.cli.doctor.needs; print("ok")' 2>/dev/null </dev/null)" == ok ]]; then
		NEEDS_PY=$cand
		break
	fi
done
[[ -n "$NEEDS_PY" ]] ||
	die "no Python here can read the policy (it needs PyYAML and this checkout's sync/). Fix: 'make .venv/.installed', or set BTS_PYTHON to an interpreter that has PyYAML"

# needs_json [--schedule SID]...: sync/cli/doctor/needs.py's answer for this deployment (JSON).
# shellcheck disable=SC2120  # deploy.sh passes --schedule SID...; here it is called without
needs_json() {
	local args=(--tenancy "$TENANCY" --compartment "$COMPARTMENT" --dynamic-group "$DG_NAME"
		--tag-namespace-compartment "$TAG_NS_COMPARTMENT" --bucket "$BUCKET" --bucket-compartment "$BUCKET_COMPARTMENT"
		--metrics-compartment "$METRICS_COMPARTMENT" --policy "$POLICY_LOCAL") x
	for x in "${TARGETS[@]}"; do args+=(--target "$x"); done
	for x in "${MEMBER_COMPARTMENTS[@]+"${MEMBER_COMPARTMENTS[@]}"}"; do args+=(--member-compartment "$x"); done
	for x in "${TAG_NAMESPACES[@]+"${TAG_NAMESPACES[@]}"}"; do args+=(--tag-namespace "$x"); done
	(cd "$ROOT" && "$NEEDS_PY" -m sync.cli.doctor.needs "${args[@]}" "$@" </dev/null) ||
		die "cannot read what the policy $POLICY_LOCAL needs (see above): nothing was changed"
}
# shellcheck disable=SC2119  # no schedule arguments for the deployment's own needs
NEEDS=$(needs_json)
if [[ -z "$POLICY_LOCAL" ]]; then
	warn "the policy at $POLICY_URI is not read here: the rule lists every backup kind's events and the grants cover every kind; only --tag-namespace namespaces are granted"
fi
while IFS= read -r note; do
	[[ -z "$note" ]] || warn "$note"
done <<<"$(printf '%s' "$NEEDS" | json_eval '"\n".join(d["notes"])')"
if [[ -n "$(printf '%s' "$NEEDS" | json_eval '"\n".join(d["namespaces"])')" ]]; then
	info "tag namespaces the function writes (use tag-namespaces): $(printf '%s' "$NEEDS" | json_eval '", ".join(d["namespaces"])')"
fi
# Oracle-Tags and other namespaces already on a backup: see README "Deploy to OCI Functions", tag namespaces.
info "a backup's tags of other namespaces (e.g. Oracle-Tags CreatedBy/CreatedOn) are sent back unchanged with each update; if the tenancy refuses that without 'use' on them, add --tag-namespace NS"

# ---- function config: Oracle limits all keys and values together to 4 KB (UTF-8 octets) --------

if [[ -n "$POLICY_FILE" && -z "$POLICY_BUCKET" ]]; then
	# What ensure_config would send, with room for the function's OCID and invoke endpoint.
	CONFIG_BYTES=$(P="$POLICY_FILE" M="$METRICS_COMPARTMENT" python3 -c 'import os
pol = open(os.environ["P"], encoding="utf-8").read().rstrip("\n")
cfg = {"TAG_POLICY": pol, "LOG_LEVEL": "warning", "DRY_RUN": "false", "FUNCTION_ID": "x" * 120,
       "FUNCTION_INVOKE_ENDPOINT": "x" * 120, "METRICS_COMPARTMENT_ID": os.environ["M"]}
print(sum(len(k.encode()) + len(v.encode()) for k, v in cfg.items()))')
	[[ "$CONFIG_BYTES" -le 4096 ]] ||
		die "the policy $POLICY_FILE makes the function's config about $CONFIG_BYTES bytes; Oracle limits a function's config (all keys and values, UTF-8) to 4 KB, so 'fn function update --config' would fail. Nothing was changed. Fix: add --policy-bucket BUCKET (uploads it to Object Storage and sets TAG_POLICY_URI), or --policy-uri oci://bucket@namespace/object"
fi

# ---- the live policy check: the policy deployed must fit the tenancy's tag schema -------------

if [[ "$SKIP_POLICY_CHECK" == 1 ]]; then
	info "policy check skipped (--skip-policy-check)"
else
	policy_to_check=""
	case "$POLICY_URI" in
	"" | file:///function/tag_policy.yaml) policy_to_check=${POLICY_FILE:-$ROOT/tag_policy.yaml} ;;
	"oci://$BUCKET@$OS_NS/$POLICY_OBJECT") policy_to_check=$POLICY_FILE ;;
	file://*) warn "--policy-uri $POLICY_URI is a path inside the image: checking $ROOT/tag_policy.yaml is not the same policy; check yours with 'python -m sync lint FILE --live'" ;;
	*) warn "the live policy check reads local files; check the policy you uploaded to $POLICY_URI with 'python -m sync lint FILE --live' (or pass --skip-policy-check to silence this)" ;;
	esac
	if [[ -n "$policy_to_check" ]]; then
		py=${BTS_PYTHON:-}
		[[ -n "$py" ]] || { [[ -x "$ROOT/.venv/bin/python" ]] && py=$ROOT/.venv/bin/python; } || py=python3
		info "checking $policy_to_check against the tenancy's tag schema: $py -m sync lint $policy_to_check --live"
		(cd "$ROOT" && "$py" -m sync lint "$policy_to_check" --live) >&2 ||
			die "the live policy check failed (see above): nothing was changed. Fix the policy (or the tag namespaces), or pass --skip-policy-check"
	fi
fi
