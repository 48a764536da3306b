"""The deployment settings the outbox relay and the compile leases depend on (template, Chalice config, policy)."""
from __future__ import annotations

import json
from pathlib import Path

from chalicelib.config import Settings
from infra.provision import load_template

ROOT = Path(__file__).resolve().parents[2]


def test_the_table_streams_new_images_to_the_outbox_relay() -> None:
    resources = load_template()["Resources"]
    assert resources["Table"]["Properties"]["StreamSpecification"]["StreamViewType"] in ("NEW_IMAGE",
                                                                                        "NEW_AND_OLD_IMAGES")
    # The function Chalice generates for chalicelib/events/outbox.py gets the real stream, retries a
    # failed record from its sequence number for as long as the stream keeps it, and reads from the start
    source = resources["ForwardOutbox"]["Properties"]["Events"]["ForwardOutboxDynamodbEventSource"]["Properties"]
    assert source["Stream"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["StartingPosition"] == "TRIM_HORIZON" and source["MaximumRetryAttempts"] == -1
    assert resources["ForwardOutbox"]["Properties"]["Environment"]["Variables"]["SPOKE_TABLE_NAME"] == {"Ref": "Table"}


def test_only_the_records_the_relay_acts_on_invoke_it() -> None:
    from chalicelib.adapters.outbox_store import COUNTED_TYPES, OUTBOX_TYPE

    source = load_template()["Resources"]["ForwardOutbox"]["Properties"]["Events"][
        "ForwardOutboxDynamodbEventSource"]["Properties"]
    [only] = source["FilterCriteria"]["Filters"]
    # Given the filter Lambda applies before invoking the relay
    pattern = json.loads(only["Pattern"])
    # Then it lets through exactly the item types the relay forwards or counts (and so not the rate
    # counters every request writes)
    assert set(pattern["dynamodb"]["NewImage"]["type"]["S"]) == set(COUNTED_TYPES) | {OUTBOX_TYPE}


def test_the_relay_function_is_configured_and_may_read_the_stream() -> None:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    assert config["lambda_functions"]["forward_outbox"]["lambda_timeout"] <= 900
    # The relay's own role (infra/template.yaml replaces the policy Chalice writes for ForwardOutboxRole)
    [policy] = load_template()["Resources"]["ForwardOutboxRole"]["Properties"]["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    allowed = {action for statement in statements if "Action" in statement for action in statement["Action"]}
    assert {"dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream",
            "dynamodb:ListStreams", "dynamodb:DeleteItem", "sqs:SendMessage"} <= allowed


def test_the_relay_is_registered_as_a_stream_handler() -> None:
    from chalice.app import DynamoDBEventConfig

    from app import app

    [source] = [s for s in app.event_sources if s.name == "forward_outbox"]
    assert isinstance(source, DynamoDBEventConfig)
    assert source.starting_position == "TRIM_HORIZON" and source.batch_size == 100
    assert "forward_outbox" in app.handler_map


def test_a_compile_lease_outlasts_the_function_and_expires_before_the_message_returns() -> None:
    """A live receive keeps its claim for its whole run (the function's timeout); a receive cut off by that
    timeout has lost it by the time SQS hands the message out again (the queue's visibility timeout)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    visibility = load_template()["Resources"]["CompileQueue"]["Properties"]["VisibilityTimeout"]
    lease = Settings.default_of("compile_lease_seconds")
    assert config["lambda_functions"]["compile_versions"]["lambda_timeout"] <= lease < visibility
