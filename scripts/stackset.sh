#!/usr/bin/env bash
# Roll a template out to an organization with CloudFormation StackSets (service-managed permissions,
# automatic deployment to new accounts): the acceptor (template.yaml, the default) to recipient OUs, or the
# share-event router (TEMPLATE=templates/sharer-forwarding.yaml STACK_SET_NAME=wa-share-router) to sharer OUs. Run from the management account or a delegated administrator
# for CloudFormation StackSets (CALL_AS=DELEGATED_ADMIN). Needs the AWS CLI v2 and credentials.
#
#   scripts/stackset.sh buckets   # once: <ARTIFACT_BUCKET_PREFIX>-<region> in every region, readable by the org
#   scripts/stackset.sh package   # zip the built code, upload it to every region's bucket, write the template
#                                 # and upload it to the code bucket of TEMPLATE_REGION (StackSets reads it by URL)
#   scripts/stackset.sh create    # check PARAMETERS (make check-deploy), create the stack set and its instances
#   scripts/stackset.sh update    # check PARAMETERS (make check-deploy), roll the package and them out everywhere
#
# Settings (environment):
#   TEMPLATE                 the SAM template, default template.yaml (package)
#   REGIONS                  regions to deploy to, space or comma separated (buckets, package, create)
#   ARTIFACT_BUCKET_PREFIX   code buckets are <prefix>-<region> (buckets, package)
#   ORG_ID                   organization id o-...; only its principals may read the code (buckets)
#   TARGET_OUS               OU or root ids to deploy to, space or comma separated (create)
#   PARAMETERS               JSON file of [{"ParameterKey": ..., "ParameterValue": ...}] (create, update: required,
#                            and checked by tools/check_deploy.py first; a stack set update without it would
#                            reset every parameter to the template's default). POLICY: the document a
#                            PolicyParameter names, to check it too
#   TEMPLATE_REGION          region whose code bucket holds the template (package); default: the first of REGIONS
#   TAGS                     optional stack tags, space separated Key=Value (create, update); CloudFormation
#                            copies them to every stack instance and every resource that supports tags
#   STACK_SET_NAME           default wa-share-acceptor
#   CALL_AS                  SELF (management account, default) or DELEGATED_ADMIN
#   MAX_CONCURRENT_PERCENT   default 25;  FAILURE_TOLERANCE_PERCENT  default 10
#   BUILD_DIR                default .aws-sam/build/<the template's first function> (the output of `make build`)
#   TEMPLATE_OUT             default dist/stackset-template.json for template.yaml, else dist/<name>-stackset.json
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PY:-.venv/bin/python}"
STACK_SET_NAME="${STACK_SET_NAME:-wa-share-acceptor}"
CALL_AS="${CALL_AS:-SELF}"
TEMPLATE="${TEMPLATE:-template.yaml}"
if [[ "$TEMPLATE" == template.yaml ]]; then
  TEMPLATE_OUT="${TEMPLATE_OUT:-dist/stackset-template.json}"
else
  name="$(basename "$TEMPLATE")"
  TEMPLATE_OUT="${TEMPLATE_OUT:-dist/${name%.*}-stackset.json}"
fi
TEMPLATE_URL_OUT="${TEMPLATE_OUT%.json}.url"  # the template's S3 URL, written by package, read by create/update
PREFS="RegionConcurrencyType=PARALLEL,MaxConcurrentPercentage=${MAX_CONCURRENT_PERCENT:-25},FailureTolerancePercentage=${FAILURE_TOLERANCE_PERCENT:-10}"

die() { echo "stackset: $*" >&2; exit 2; }
need() { [[ -n "${!1:-}" ]] || die "$1 is not set (see the top of scripts/stackset.sh)"; }
words() { echo "${1//,/ }"; }

# PARAMETERS is required, and must pass the deploy check (run_check) before any AWS call.
check_parameters() {
  [[ -n "${PARAMETERS:-}" ]] || die "PARAMETERS is not set: give the stack set's parameters file (JSON list of \
{\"ParameterKey\": ..., \"ParameterValue\": ...}); it is checked by 'make check-deploy PARAMETERS=file' first"
  [[ -f "$PARAMETERS" ]] || die "PARAMETERS file '$PARAMETERS' does not exist"
}

run_check() {
  "$PY" -m tools.check_deploy --template "$TEMPLATE" --parameters "$PARAMETERS" ${POLICY:+--policy "$POLICY"} \
    || die "the deploy check refused $PARAMETERS (above); nothing was changed"
}

template_url() {
  [[ -f "$TEMPLATE_URL_OUT" ]] || die "no $TEMPLATE_URL_OUT: run 'scripts/stackset.sh package' first"
  cat "$TEMPLATE_URL_OUT"
}

tags_args() {
  [[ -n "${TAGS:-}" ]] || return 0
  local out="--tags" tag
  for tag in $TAGS; do
    [[ "$tag" =~ ^([A-Za-z0-9_.:/+@-]{1,128})=([A-Za-z0-9_.:/+@-]{0,256})$ ]] \
      || die "TAGS entry '$tag' is not Key=Value (letters, digits and _.:/+@- only)"
    out+=" Key=${BASH_REMATCH[1]},Value=${BASH_REMATCH[2]}"
  done
  echo "$out"
}

cmd_buckets() {
  need REGIONS; need ARTIFACT_BUCKET_PREFIX; need ORG_ID
  [[ "$ORG_ID" =~ ^o-[a-z0-9]{10,32}$ ]] || die "ORG_ID '$ORG_ID' is not an organization id (o-...)"
  for region in $(words "$REGIONS"); do
    bucket="${ARTIFACT_BUCKET_PREFIX}-${region}"
    if ! aws s3api head-bucket --bucket "$bucket" --region "$region" >/dev/null 2>&1; then
      if [[ "$region" == us-east-1 ]]; then
        aws s3api create-bucket --bucket "$bucket" --region "$region" >/dev/null
      else
        aws s3api create-bucket --bucket "$bucket" --region "$region" \
          --create-bucket-configuration "LocationConstraint=$region" >/dev/null
      fi
    fi
    aws s3api put-public-access-block --bucket "$bucket" --region "$region" --public-access-block-configuration \
      BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
    aws s3api put-bucket-policy --bucket "$bucket" --region "$region" --policy "$(cat <<JSON
{"Version": "2012-10-17", "Statement": [
 {"Sid": "OrganizationReadsCode", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
  "Resource": "arn:aws:s3:::${bucket}/*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "${ORG_ID}"}}},
 {"Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
  "Resource": ["arn:aws:s3:::${bucket}", "arn:aws:s3:::${bucket}/*"],
  "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
JSON
)"
    echo "bucket $bucket ready in $region"
  done
}

cmd_package() {
  need REGIONS; need ARTIFACT_BUCKET_PREFIX
  [[ -f "$TEMPLATE" ]] || die "TEMPLATE '$TEMPLATE' does not exist"
  if [[ -z "${BUILD_DIR:-}" ]]; then
    BUILD_DIR=".aws-sam/build/$("$PY" -m tools.stackset_template --template "$TEMPLATE" --functions | head -n 1)"
  fi
  [[ -d "$BUILD_DIR/handlers" ]] || die "no built code in $BUILD_DIR: run 'make build' first (TEMPLATE=$TEMPLATE)"
  mkdir -p dist
  rm -f dist/code.zip
  # Files at the zip's root, sorted, with fixed timestamps: the same code gives the same key. The
  # precompiled bytecode goes too (Lambda cannot write it, so without it every cold start compiles);
  # `make build` writes unchecked-hash .pyc files, whose bytes depend on the source only.
  "$PY" - "$BUILD_DIR" dist/code.zip <<'PYTHON'
import sys, zipfile
from pathlib import Path
root = Path(sys.argv[1])
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as archive:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        info = zipfile.ZipInfo(path.relative_to(root).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
PYTHON
  digest="$("$PY" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest()[:20])' dist/code.zip)"
  key="${STACK_SET_NAME}/code-${digest}.zip"
  for region in $(words "$REGIONS"); do
    aws s3 cp dist/code.zip "s3://${ARTIFACT_BUCKET_PREFIX}-${region}/${key}" --region "$region" --only-show-errors
    echo "uploaded s3://${ARTIFACT_BUCKET_PREFIX}-${region}/${key}"
  done
  "$PY" -m tools.stackset_template --template "$TEMPLATE" --bucket-prefix "$ARTIFACT_BUCKET_PREFIX" --key "$key" \
    --output "$TEMPLATE_OUT"
  # By URL, not inline: --template-body stops at 51,200 bytes, a template in S3 may have 1 MB.
  local template_region template_key template_bucket
  template_region="${TEMPLATE_REGION:-$(words "$REGIONS" | awk '{print $1}')}"
  template_bucket="${ARTIFACT_BUCKET_PREFIX}-${template_region}"
  template_key="${STACK_SET_NAME}/template-$("$PY" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest()[:20])' "$TEMPLATE_OUT").json"
  aws s3 cp "$TEMPLATE_OUT" "s3://${template_bucket}/${template_key}" --region "$template_region" --only-show-errors
  echo "https://${template_bucket}.s3.${template_region}.amazonaws.com/${template_key}" > "$TEMPLATE_URL_OUT"
  echo "uploaded the template: $(cat "$TEMPLATE_URL_OUT")"
}

cmd_create() {
  need REGIONS; need TARGET_OUS
  check_parameters
  local url tags  # checked before any call (a die inside $(...) would only end the subshell)
  url="$(template_url)"; tags="$(tags_args)"
  run_check
  # shellcheck disable=SC2086
  aws cloudformation create-stack-set --stack-set-name "$STACK_SET_NAME" --call-as "$CALL_AS" \
    --template-url "$url" --capabilities CAPABILITY_NAMED_IAM \
    --permission-model SERVICE_MANAGED --auto-deployment Enabled=true,RetainStacksOnAccountRemoval=false \
    --parameters "file://$PARAMETERS" $tags
  ous="$(words "$TARGET_OUS")"
  # shellcheck disable=SC2046
  aws cloudformation create-stack-instances --stack-set-name "$STACK_SET_NAME" --call-as "$CALL_AS" \
    --deployment-targets "OrganizationalUnitIds=${ous// /,}" --regions $(words "$REGIONS") \
    --operation-preferences "$PREFS"
}

cmd_update() {
  check_parameters
  local url tags
  url="$(template_url)"; tags="$(tags_args)"
  run_check
  # shellcheck disable=SC2086
  aws cloudformation update-stack-set --stack-set-name "$STACK_SET_NAME" --call-as "$CALL_AS" \
    --template-url "$url" --capabilities CAPABILITY_NAMED_IAM \
    --operation-preferences "$PREFS" --parameters "file://$PARAMETERS" $tags
}

case "${1:-}" in
  buckets) cmd_buckets ;;
  package) cmd_package ;;
  create) cmd_create ;;
  update) cmd_update ;;
  *) die "usage: scripts/stackset.sh buckets|package|create|update" ;;
esac
