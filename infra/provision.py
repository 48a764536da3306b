"""Create the resources of `infra/template.yaml` on an AWS endpoint (the embedded moto one).

Tests, the local runner and the benchmarks all call `provision`, so the resources they use are
the ones the CloudFormation template declares and cannot drift from it.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import yaml

TEMPLATE_PATH = Path(__file__).with_name("template.yaml")
LOCAL_ACCOUNT_ID = "123456789012"
STORAGE_TYPES = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue")


def load_template() -> dict[str, Any]:
    return yaml.safe_load(TEMPLATE_PATH.read_text())


def _resolve(value: Any, params: dict[str, str], names: dict[str, str], arns: dict[str, str]) -> Any:
    """Resolve the few intrinsic functions the template uses (Fn::Sub, Ref, Fn::GetAtt)."""
    if isinstance(value, list):
        return [_resolve(v, params, names, arns) for v in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Sub" in value:
        return re.sub(r"\$\{([^}]+)\}", lambda m: params[m.group(1)], value["Fn::Sub"])
    if "Ref" in value:
        return params.get(value["Ref"]) or names[value["Ref"]]
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return arns[logical_id] if attribute == "Arn" else names[logical_id]
    return {k: _resolve(v, params, names, arns) for k, v in value.items()}


def resource_names(stage: str, account_id: str = LOCAL_ACCOUNT_ID) -> dict[str, str]:
    """Physical name of every resource, by logical id, as the template names them."""
    template = load_template()
    params = {"Stage": stage, "AWS::AccountId": account_id, "AWS::Region": "us-east-1"}
    names: dict[str, str] = {}
    for logical_id, resource in _storage(template).items():
        props = resource["Properties"]
        name = props.get("TableName") or props.get("BucketName") or props.get("QueueName")
        names[logical_id] = _resolve(name, params, names, {})
    return names


def _storage(template: dict[str, Any]) -> dict[str, Any]:
    """The table, bucket and queues. The rest is AWS-only: the layers, the Chalice function and role
    overrides, the bucket policy (TLS only), log groups, alarms and gateway responses."""
    return {logical_id: resource for logical_id, resource in template["Resources"].items()
            if resource.get("Type") in STORAGE_TYPES}


def settings_environment(stage: str, account_id: str = LOCAL_ACCOUNT_ID) -> dict[str, str]:
    """The SPOKE_* variables that point the application at the provisioned resources."""
    names = resource_names(stage, account_id)
    return {
        "SPOKE_TABLE_NAME": names["Table"],
        "SPOKE_BUCKET_NAME": names["Bucket"],
        "SPOKE_COMPILE_QUEUE_NAME": names["CompileQueue"],
        "SPOKE_EVENTS_QUEUE_NAME": names["EventsQueue"],
    }


def provision(stage: str, session: boto3.session.Session | None = None,
              endpoint_url: str | None = None) -> dict[str, str]:
    """Create every resource of the template on a fresh (embedded) AWS; return the settings variables."""
    session = session or boto3.session.Session()
    template = load_template()
    account_id = session.client("sts", endpoint_url=endpoint_url).get_caller_identity()["Account"]
    params = {"Stage": stage, "AWS::AccountId": account_id, "AWS::Region": session.region_name or "us-east-1"}
    names = resource_names(stage, account_id)
    arns: dict[str, str] = {}
    ddb, s3, sqs = (session.client(name, endpoint_url=endpoint_url) for name in ("dynamodb", "s3", "sqs"))
    for logical_id, resource in _storage(template).items():
        props = _resolve(resource["Properties"], params, names, arns)
        kind = resource["Type"]
        if kind == "AWS::DynamoDB::Table":
            ttl = props.pop("TimeToLiveSpecification")
            pitr = props.pop("PointInTimeRecoverySpecification", None)
            if "StreamSpecification" in props:  # CloudFormation's has no StreamEnabled; the API's requires it
                props["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
            ddb.create_table(**props)
            ddb.get_waiter("table_exists").wait(TableName=props["TableName"])
            ddb.update_time_to_live(TableName=props["TableName"], TimeToLiveSpecification=ttl)
            if pitr:
                ddb.update_continuous_backups(TableName=props["TableName"],
                                              PointInTimeRecoverySpecification=pitr)
        elif kind == "AWS::S3::Bucket":
            # The lifecycle rules (expiry of posted archives) are AWS-only: nothing local lives long
            # enough for them to matter.
            s3.create_bucket(Bucket=props["BucketName"])
            s3.put_public_access_block(
                Bucket=props["BucketName"],
                PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"],
            )
            if "BucketEncryption" in props:
                rules = [{"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                         for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]
                s3.put_bucket_encryption(Bucket=props["BucketName"],
                                         ServerSideEncryptionConfiguration={"Rules": rules})
        elif kind == "AWS::SQS::Queue":
            attributes = {k: str(v).lower() if isinstance(v, bool) else str(v)
                          for k, v in props.items() if k not in ("QueueName", "RedrivePolicy")}
            if "RedrivePolicy" in props:
                attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
            url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
            arns[logical_id] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
        else:
            raise ValueError(f"provision does not know resource type {kind}")
    return settings_environment(stage, account_id)
