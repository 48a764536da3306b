#!/usr/bin/env bash
# Deploy a packaged stage with CloudFormation: `make deploy STAGE=prod ARTIFACTS_BUCKET=...` runs
# `make package` and `make layers`, then this script with the package's directory. Never run by the tests.
#
# Variables (environment):
#   STAGE               dev | prod (required; must be the stage the package was made for)
#   ARTIFACTS_BUCKET    an S3 bucket of yours, in the same region, for the code and layer ZIPs (required)
#   AWS_REGION          the region to deploy to (or AWS_DEFAULT_REGION, or the AWS CLI's profile's)
#   STACK_NAME          default spoke-$STAGE
#   ALARM_TOPIC_ARN     an SNS topic every alarm notifies; empty (default): alarms without actions
#   TRACING             Active | PassThrough (default): X-Ray for every function and the API stage
#   API_THROTTLE_RATE   API Gateway requests per second for the whole stage (default 200)
#   API_THROTTLE_BURST  API Gateway burst for the whole stage (default 400)
#   LOG_RETENTION_DAYS  days the functions' log groups keep their lines (default 30)
# Prerequisites: AWS credentials allowed to run CloudFormation with IAM (CAPABILITY_IAM), the AWS CLI v2,
# and the SSM SecureString /spoke/$STAGE/jwt-secret (at least 32 bytes), which this script checks.
# Rollback: a failed deployment rolls back by itself (CloudFormation); to go back to an earlier
# release, deploy its package again (git checkout <tag> && make deploy STAGE=...).
set -euo pipefail

package_dir=${1:?usage: infra/deploy.sh build/package/<stage>}
: "${STAGE:?set STAGE (dev or prod)}"
: "${ARTIFACTS_BUCKET:?set ARTIFACTS_BUCKET to an S3 bucket for the deployment artifacts}"
stack=${STACK_NAME:-spoke-$STAGE}
template="$package_dir/sam.json"

pinned=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Parameters"]["Stage"]["AllowedValues"][0])' "$template")
if [[ "$pinned" != "$STAGE" ]]; then
  echo "deploy: $template was packaged for stage '$pinned', not '$STAGE'" >&2
  exit 2
fi
if ! aws ssm describe-parameters --parameter-filters "Key=Name,Values=/spoke/$STAGE/jwt-secret" \
     --query 'Parameters[0].Type' --output text | grep -qx SecureString; then
  echo "deploy: create the SSM SecureString /spoke/$STAGE/jwt-secret first (README, Deploy)" >&2
  exit 2
fi

aws cloudformation package \
  --template-file "$template" \
  --s3-bucket "$ARTIFACTS_BUCKET" \
  --s3-prefix "spoke/$STAGE" \
  --output-template-file "$package_dir/packaged.yaml"

aws cloudformation deploy \
  --template-file "$package_dir/packaged.yaml" \
  --stack-name "$stack" \
  --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
  --no-fail-on-empty-changeset \
  --parameter-overrides \
    "Stage=$STAGE" \
    "AlarmTopicArn=${ALARM_TOPIC_ARN:-}" \
    "Tracing=${TRACING:-PassThrough}" \
    "ApiThrottleRateLimit=${API_THROTTLE_RATE:-200}" \
    "ApiThrottleBurstLimit=${API_THROTTLE_BURST:-400}" \
    "LogRetentionDays=${LOG_RETENTION_DAYS:-30}" \
  --tags "app=spoke" "stage=$STAGE"

aws cloudformation describe-stacks --stack-name "$stack" \
  --query 'Stacks[0].Outputs[?OutputKey==`EndpointURL`].OutputValue' --output text
