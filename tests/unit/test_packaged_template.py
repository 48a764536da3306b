"""What CloudFormation gets for each stage: `chalice package` merged with infra/template.yaml, as deployed.

Both stages are packaged once per session (infra/package.py, with an empty requirements.txt: the
template does not depend on the vendored libraries, and nothing is downloaded). A stage's package must
name only that stage's resources, wire the event sources to its queues, keep its data, and give each
function a role that reaches that stage's resources and nothing else.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.package import PackagingError, foreign_stage_names, package, pin_stage
from infra.provision import provision

STAGES = ("dev", "prod")
ACCOUNT, REGION = "111122223333", "eu-west-1"
FUNCTIONS = ("APIHandler", "CompileVersions", "DeliverEvents", "ForwardOutbox")
NO_ACTIONS = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return {stage: package(stage, tmp_path_factory.mktemp(stage) / "out", with_dependencies=False)
            for stage in STAGES}


def resolve(value: Any, stage: str) -> Any:
    """Intrinsics as CloudFormation would resolve them in `stage` (resources as `<LogicalId.Attribute>`)."""
    pseudo = {"Stage": stage, "AWS::AccountId": ACCOUNT, "AWS::Region": REGION, "AWS::Partition": "aws",
              "AWS::URLSuffix": "amazonaws.com"}
    if isinstance(value, list):
        return [resolve(item, stage) for item in value]
    if not isinstance(value, dict):
        return value
    if "Fn::Sub" in value:
        text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
        names = {**pseudo, **{k: resolve(v, stage) for k, v in variables.items()}}
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(names.get(m.group(1), f"<{m.group(1)}>")), text)
    if "Ref" in value:
        return pseudo.get(value["Ref"], f"<{value['Ref']}>")
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    return {key: resolve(item, stage) for key, item in value.items()}


def strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return [value] if isinstance(value, str) else []


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: resource for name, resource in template["Resources"].items() if resource["Type"] == kind}


def statements(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role = template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [statement for policy in template["Resources"][role]["Properties"]["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]]


def allowed(template: dict[str, Any], function: str, stage: str) -> dict[str, set[str]]:
    """Action -> the resources (resolved) it is allowed on, for the function's role (X-Ray excluded)."""
    grants: dict[str, set[str]] = {}
    for statement in statements(template, function):
        if "Fn::If" in statement:
            continue
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in statement["Action"]:
            grants.setdefault(action, set()).update(resolve(targets, stage))
    return grants


@pytest.mark.parametrize("stage", STAGES)
def test_every_physical_name_and_arn_belongs_to_the_stage(packaged: dict[str, dict[str, Any]], stage: str) -> None:
    # Given the stage's package, with every name resolved as CloudFormation would in that stage
    template = packaged[stage]
    named = [text for text in strings(resolve(template["Resources"], stage)) if re.search(r"spoke[-/]\w", text)]
    # Then every Spoke name (table, bucket, queues, layers, log groups, alarms, API, SSM parameters) is
    # the stage's, and the Stage parameter accepts that stage only
    assert len(named) > 30
    assert [text for text in named if not re.search(rf"(spoke-|/spoke/){stage}\b", text)] == []
    assert foreign_stage_names(template, stage) == []
    assert template["Parameters"]["Stage"]["Default"] == stage
    assert template["Parameters"]["Stage"]["AllowedValues"] == [stage]
    environment = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert resolve(environment, stage)["SPOKE_STAGE"] == stage
    assert resolve(environment, stage)["SPOKE_JWT_SECRET_PARAMETER"] == f"/spoke/{stage}/jwt-secret"


@pytest.mark.parametrize("stage", STAGES)
def test_the_event_sources_reference_the_stages_queues_and_stream(packaged: dict[str, dict[str, Any]],
                                                                  stage: str) -> None:
    resources = packaged[stage]["Resources"]
    compile_source = resources["CompileVersions"]["Properties"]["Events"]["CompileVersionsSqsEventSource"]
    events_source = resources["DeliverEvents"]["Properties"]["Events"]["DeliverEventsSqsEventSource"]
    stream_source = resources["ForwardOutbox"]["Properties"]["Events"]["ForwardOutboxDynamodbEventSource"]
    # GetAtt (not a name): CloudFormation creates the queue before the mapping, in the same stage
    assert compile_source["Properties"]["Queue"] == {"Fn::GetAtt": ["CompileQueue", "Arn"]}
    assert events_source["Properties"]["Queue"] == {"Fn::GetAtt": ["EventsQueue", "Arn"]}
    assert stream_source["Properties"]["Stream"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    for source in (compile_source, events_source):
        assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_data_outlives_the_stack_and_can_be_restored(packaged: dict[str, dict[str, Any]]) -> None:
    for template in packaged.values():
        table, bucket = template["Resources"]["Table"], template["Resources"]["Bucket"]
        for resource in (table, bucket):
            assert resource["DeletionPolicy"] == "Retain" and resource["UpdateReplacePolicy"] == "Retain"
        assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


def test_the_bucket_is_encrypted_private_and_refuses_plain_http(packaged: dict[str, dict[str, Any]]) -> None:
    for template in packaged.values():
        bucket = template["Resources"]["Bucket"]["Properties"]
        [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
        assert bucket["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
        [policy] = resources_of(template, "AWS::S3::BucketPolicy").values()
        assert policy["Properties"]["Bucket"] == {"Ref": "Bucket"}
        denials = [s for s in policy["Properties"]["PolicyDocument"]["Statement"]
                   if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}]
        assert [(d["Principal"], d["Action"]) for d in denials] == [("*", "s3:*")]
        assert sorted(resolve(denials[0]["Resource"], "dev")) == ["<Bucket.Arn>", "<Bucket.Arn>/*"]


@pytest.mark.parametrize("stage", STAGES)
def test_each_function_has_its_own_role_reaching_only_the_stages_resources(packaged: dict[str, dict[str, Any]],
                                                                           stage: str) -> None:
    template = packaged[stage]
    roles = [template["Resources"][f]["Properties"]["Role"]["Fn::GetAtt"][0] for f in FUNCTIONS]
    assert len(set(roles)) == len(FUNCTIONS)
    own = {f"<{name}.Arn>" for name in ("Table", "Bucket", "CompileQueue", "EventsQueue")}
    for function in FUNCTIONS:
        for action, targets in allowed(template, function, stage).items():
            for target in targets:
                # a resource of this stack (by GetAtt: this stage's), or an ARN naming this stage
                assert (target.split("/")[0] in own or re.fullmatch(r"<\w+LogGroup\.Arn>", target)
                        or f":parameter/spoke/{stage}/" in target), (function, action, target)
    # The one "*" (X-Ray accepts no resource ARN) is granted only when tracing is on
    for function in FUNCTIONS:
        wildcard = [s for s in statements(template, function) if "*" in strings(s.get("Resource", s))]
        assert [s["Fn::If"][0] for s in wildcard] == ["TracingActive"]
        assert set(wildcard[0]["Fn::If"][1]["Action"]) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    # Chalice's policy (.chalice/policy.json) is replaced for every role
    assert "PlaceholderEachRoleIsReplacedByInfraTemplateYaml" not in str(template["Resources"])


def test_each_role_allows_what_its_function_does_and_no_more(packaged: dict[str, dict[str, Any]]) -> None:
    template = packaged["prod"]
    grants = {function: allowed(template, function, "prod") for function in FUNCTIONS}
    parameter = "arn:aws:ssm:eu-west-1:111122223333:parameter/spoke/prod/"
    # Only the relay reads the table's stream; only the API manages SSO secrets
    for function in FUNCTIONS:
        assert ("dynamodb:GetRecords" in grants[function]) == (function == "ForwardOutbox")
        assert ("ssm:PutParameter" in grants[function]) == (function == "APIHandler")
        assert "dynamodb:Scan" not in grants[function] and "s3:DeleteObject" not in grants[function]
    assert grants["ForwardOutbox"]["dynamodb:GetRecords"] == {"<Table.Arn>/stream/*"}
    assert grants["APIHandler"]["ssm:PutParameter"] == {parameter + "sso/*"}
    # Each consumer consumes its own queue; the API sends nothing (its messages go through the outbox)
    assert grants["CompileVersions"]["sqs:ReceiveMessage"] == {"<CompileQueue.Arn>"}
    assert grants["DeliverEvents"]["sqs:ReceiveMessage"] == {"<EventsQueue.Arn>"}
    assert grants["DeliverEvents"]["sqs:SendMessage"] == {"<EventsQueue.Arn>"}  # retries with DelaySeconds
    assert grants["ForwardOutbox"]["sqs:SendMessage"] == {"<CompileQueue.Arn>", "<EventsQueue.Arn>"}
    assert "sqs:SendMessage" not in grants["APIHandler"] and "sqs:ReceiveMessage" not in grants["ForwardOutbox"]
    # Only the API and the compile function touch the bucket; the JWT secret is read where tokens or
    # cursors are signed
    assert {f for f in FUNCTIONS if "s3:GetObject" in grants[f]} == {"APIHandler", "CompileVersions"}
    assert {f for f in FUNCTIONS if "ssm:GetParameter" in grants[f]} == {"APIHandler", "DeliverEvents"}
    assert parameter + "jwt-secret" in grants["DeliverEvents"]["ssm:GetParameter"]
    # Each function writes to its own log group only
    for function in FUNCTIONS:
        log_group = template["Resources"][function]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert grants[function]["logs:PutLogEvents"] == {f"<{log_group}.Arn>"}
        assert "logs:CreateLogGroup" not in grants[function]


@pytest.mark.parametrize("stage", STAGES)
def test_every_function_logs_to_its_stages_group_with_a_retention(packaged: dict[str, dict[str, Any]],
                                                                  stage: str) -> None:
    template = packaged[stage]
    groups = resources_of(template, "AWS::Logs::LogGroup")
    for function in FUNCTIONS:
        props = template["Resources"][function]["Properties"]
        group = groups[props["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
        assert resolve(group["LogGroupName"], stage).startswith(f"/aws/lambda/spoke-{stage}-")
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert props["Tracing"] == {"Ref": "Tracing"}
        environment = resolve(props["Environment"]["Variables"], stage)
        assert environment["POWERTOOLS_SERVICE_NAME"] == "spoke"
        assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "Spoke"
        assert environment["SPOKE_STAGE"] == stage
        assert environment["SPOKE_TRACING"] == {"Fn::If": ["TracingActive", "true", "false"]}
    assert template["Parameters"]["LogRetentionDays"]["Default"] == 30
    assert set(template["Parameters"]["Tracing"]["AllowedValues"]) == {"Active", "PassThrough"}


def alarm_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric name, dimensions) of a plain or a metric-math alarm."""
    props = alarm["Properties"]
    if "MetricName" in props:
        found = [(props["Namespace"], props["MetricName"], props["Dimensions"])]
    else:
        found = [(q["MetricStat"]["Metric"]["Namespace"], q["MetricStat"]["Metric"]["MetricName"],
                  q["MetricStat"]["Metric"]["Dimensions"]) for q in props["Metrics"] if "MetricStat" in q]
    return [(namespace, name, {d["Name"]: d["Value"] for d in dims}) for namespace, name, dims in found]


def test_alarms_watch_the_queues_the_api_the_compiler_and_throttles(packaged: dict[str, dict[str, Any]]) -> None:
    template = packaged["prod"]
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    watched = [metric for alarm in alarms.values() for metric in alarm_metrics(alarm)]
    queue = {"QueueName": None}
    dlqs = {dims["QueueName"]["Fn::GetAtt"][0] for ns, name, dims in watched
            if (ns, name) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible") and dims.keys() == queue.keys()}
    assert dlqs == {"CompileDeadLetterQueue", "EventsDeadLetterQueue"}
    api_name = resolve(template["Resources"]["RestAPI"]["Properties"]["Name"], "prod")
    assert api_name == "spoke-prod"
    assert ("AWS/ApiGateway", "5XXError", {"ApiName": {"Fn::Sub": "spoke-${Stage}"}, "Stage": "api"}) in watched
    assert ("Spoke", "CompileFailures", {"service": "spoke", "stage": {"Ref": "Stage"}}) in watched
    for function in FUNCTIONS:
        for metric in ("Errors", "Throttles"):
            assert ("AWS/Lambda", metric, {"FunctionName": {"Ref": function}}) in watched, (function, metric)
    assert {name for ns, name, dims in watched if ns == "AWS/DynamoDB"} == {"ReadThrottleEvents", "WriteThrottleEvents"}
    [five_xx] = [a["Properties"] for a in alarms.values() if any(m[1] == "5XXError" for m in alarm_metrics(a))]
    assert five_xx["Threshold"] == 0.01 and five_xx["ComparisonOperator"] == "GreaterThanThreshold"
    # Every alarm notifies the optional topic, and only when one is given
    assert template["Parameters"]["AlarmTopicArn"]["Default"] == ""
    assert template["Conditions"]["HasAlarmTopic"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == NO_ACTIONS and alarm["Properties"]["OKActions"] == NO_ACTIONS
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"


def test_the_api_stage_is_throttled_as_a_backstop(packaged: dict[str, dict[str, Any]]) -> None:
    for template in packaged.values():
        [settings] = template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
        assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
        assert settings["ThrottlingRateLimit"] == {"Ref": "ApiThrottleRateLimit"}
        assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiThrottleBurstLimit"}
        assert 0 < template["Parameters"]["ApiThrottleRateLimit"]["Default"] <= \
            template["Parameters"]["ApiThrottleBurstLimit"]["Default"]
        # API Gateway's 429 keeps Spoke's envelope
        assert any(r["Properties"]["ResponseType"] == "THROTTLED"
                   for r in resources_of(template, "AWS::ApiGateway::GatewayResponse").values())


def test_a_package_that_names_another_stage_is_refused() -> None:
    # Given a prod template whose event source still names the dev queue (the bug this guards against)
    template = {"Parameters": {"Stage": {"Type": "String", "Default": "dev"}}, "Resources": {"CompileVersions": {
        "Properties": {"Events": {"Source": {"Properties": {
            "Queue": {"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:spoke-dev-compile"}}}}}}}}
    # Then packaging finds it, and the Stage parameter is pinned to the packaged stage
    assert foreign_stage_names(template, "prod") == [
        "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:spoke-dev-compile"]
    assert foreign_stage_names(template, "dev") == []
    assert pin_stage(template, "prod")["Parameters"]["Stage"] == {"Type": "String", "Default": "prod",
                                                                  "AllowedValues": ["prod"]}
    with pytest.raises(PackagingError, match="unknown stage"):
        package("staging", Path("unused"), with_dependencies=False)


def test_provision_applies_the_templates_recovery_and_encryption_locally() -> None:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        env = provision("unit", session)
        backups = session.client("dynamodb").describe_continuous_backups(TableName=env["SPOKE_TABLE_NAME"])
        assert backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
            "PointInTimeRecoveryStatus"] == "ENABLED"
        [rule] = session.client("s3").get_bucket_encryption(Bucket=env["SPOKE_BUCKET_NAME"])[
            "ServerSideEncryptionConfiguration"]["Rules"]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
