"""API Gateway's own answers are Spoke's envelope on AWS, as chalice_local.py makes them locally."""
from __future__ import annotations

import json
import re
from typing import Any

import boto3
from moto import mock_aws

from infra.provision import load_template, provision
from tests.fuzz_support import ERROR_CODE

# The response types API Gateway exposes (developer guide, "Gateway response types").
RESPONSE_TYPES = {
    "ACCESS_DENIED", "API_CONFIGURATION_ERROR", "AUTHORIZER_CONFIGURATION_ERROR", "AUTHORIZER_FAILURE",
    "BAD_REQUEST_PARAMETERS", "BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX", "EXPIRED_TOKEN",
    "INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT", "INVALID_API_KEY", "INVALID_SIGNATURE",
    "MISSING_AUTHENTICATION_TOKEN", "QUOTA_EXCEEDED", "REQUEST_TOO_LARGE", "RESOURCE_NOT_FOUND", "THROTTLED",
    "UNAUTHORIZED", "UNSUPPORTED_MEDIA_TYPE", "WAF_FILTERED",
}
# Gateway templates are plain substitution, without escaping: only variables that cannot hold a quote.
SAMPLE_CONTEXT = {
    "$context.requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
    "$context.requestTime": "24/Jan/2025:10:00:00 +0000",
    "$context.error.responseType": "BAD_REQUEST_BODY",
}
# What each response must say: (status, code). DEFAULT_4XX keeps the gateway's own status.
EXPECTED = {
    "MISSING_AUTHENTICATION_TOKEN": ("404", "NOT_FOUND"),
    "RESOURCE_NOT_FOUND": ("404", "NOT_FOUND"),
    "REQUEST_TOO_LARGE": ("413", "PAYLOAD_TOO_LARGE"),
    "THROTTLED": ("429", "RATE_LIMITED"),
    "DEFAULT_4XX": (None, "BAD_REQUEST"),
    "DEFAULT_5XX": (None, "INTERNAL_ERROR"),
}


def gateway_responses() -> dict[str, dict[str, Any]]:
    return {props["ResponseType"]: props for props in (
        resource["Properties"] for resource in load_template()["Resources"].values()
        if resource.get("Type") == "AWS::ApiGateway::GatewayResponse")}


def rendered(props: dict[str, Any]) -> dict[str, Any]:
    template = props["ResponseTemplates"]["application/json"]
    variables = set(re.findall(r"\$[A-Za-z.]+", template))
    assert variables <= set(SAMPLE_CONTEXT), f"variables that may hold a quote: {variables - set(SAMPLE_CONTEXT)}"
    for name, value in sorted(SAMPLE_CONTEXT.items(), key=lambda kv: -len(kv[0])):
        template = template.replace(name, value)
    return json.loads(template)


def test_the_gateways_answers_that_matter_are_in_the_template() -> None:
    responses = gateway_responses()
    for response_type, (status, code) in EXPECTED.items():
        assert response_type in responses, f"no gateway response for {response_type}"
        assert responses[response_type].get("StatusCode") == status, response_type
        assert rendered(responses[response_type])["error"]["code"] == code, response_type


def test_every_gateway_response_is_the_envelope_on_the_api_chalice_packages() -> None:
    resources = [r for r in load_template()["Resources"].values()
                 if r.get("Type") == "AWS::ApiGateway::GatewayResponse"]
    types = [r["Properties"]["ResponseType"] for r in resources]
    assert len(types) == len(set(types)), "one gateway response per type"
    for resource in resources:
        props = resource["Properties"]
        assert props["ResponseType"] in RESPONSE_TYPES
        assert props["RestApiId"] == {"Ref": "RestAPI"}, "RestAPI is the API's logical id in `chalice package`"
        if "StatusCode" in props:
            assert re.fullmatch(r"[45][0-9][0-9]", props["StatusCode"]), props
        assert set(props["ResponseTemplates"]) == {"application/json"}
        body = rendered(props)
        assert set(body) == {"data", "error", "meta"} and body["data"] is None
        assert set(body["error"]) == {"code", "message", "details", "validation_errors"}
        assert ERROR_CODE.match(body["error"]["code"]) and body["error"]["message"]
        assert body["error"]["validation_errors"] == [] and isinstance(body["error"]["details"], dict)
        assert body["meta"] == {"request_id": SAMPLE_CONTEXT["$context.requestId"],
                                "timestamp": SAMPLE_CONTEXT["$context.requestTime"]}
        for header, value in props.get("ResponseParameters", {}).items():
            assert header.startswith("gatewayresponse.header.")
            assert re.fullmatch(r"'[^']*'", value), "static header values only"


def test_server_errors_never_carry_the_gateways_text() -> None:
    for response_type, props in gateway_responses().items():
        if response_type == "DEFAULT_5XX" or props.get("StatusCode", "4").startswith("5"):
            assert "$context.error" not in props["ResponseTemplates"]["application/json"], response_type


def test_the_unknown_path_answer_is_the_one_chalice_local_gives() -> None:
    # localdev/chalice_local.py patches chalice.local only when run; importing it changes nothing here.
    from localdev.chalice_local import NOT_FOUND_MESSAGE

    body = rendered(gateway_responses()["MISSING_AUTHENTICATION_TOKEN"])
    assert body["error"]["message"] == NOT_FOUND_MESSAGE


def test_the_gateway_responses_pass_cloudformation_linting() -> None:
    from cfnlint import api as cfnlint_api  # cfn-lint comes with moto[server]

    resources: dict[str, Any] = {k: v for k, v in load_template()["Resources"].items()
                                 if v.get("Type") == "AWS::ApiGateway::GatewayResponse"}
    resources["RestAPI"] = {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "spoke"}}
    document = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    matches = cfnlint_api.lint(json.dumps(document), config=cfnlint_api.ManualArgs(regions=["us-east-1"]))
    assert [str(m) for m in matches] == []


def test_provision_creates_only_the_storage_and_ignores_the_gateway_responses() -> None:
    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")
        env = provision("unit", session)
        assert session.client("dynamodb").list_tables()["TableNames"] == [env["SPOKE_TABLE_NAME"]]
        assert [b["Name"] for b in session.client("s3").list_buckets()["Buckets"]] == [env["SPOKE_BUCKET_NAME"]]
        assert len(session.client("sqs").list_queues()["QueueUrls"]) == sum(
            r.get("Type") == "AWS::SQS::Queue" for r in load_template()["Resources"].values())
