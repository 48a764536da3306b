"""A cold start loads only what its first request uses.

Behavioural, not timed: a fresh interpreter imports `app` and serves `GET /health` through
chalice.test.Client (on moto, started before the snapshot), and the modules that this loaded must not
include the heavy ones that only other paths use: the breaking engine (publish, compatibility
checks), code generation and gRPC tooling (the compile function), webhook delivery (the events
function), protobuf, argon2 and JWT (sign-in), email validation (registration), the multipart parser
(uploads). chalicelib/wiring.py builds services on first use; this keeps it that way.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Never loaded by `import app` + GET /health (a prefix also covers its submodules).
HEAVY = (
    "grpc",                                # grpcio: never in the API; the compile function's layer has grpc_tools
    "grpc_tools",
    "google.protobuf",                     # descriptors: validation, compatibility, codegen
    "chalicelib.domain.breaking",          # the breaking-change engine
    "chalicelib.domain.lint",              # the lint engine (/validate, publish with a lint policy)
    "chalicelib.services.compatibility",
    "chalicelib.adapters.codegen",         # code generation (compile function)
    "chalicelib.adapters.protoc",          # protoc runs (publish, /validate, compile)
    "chalicelib.adapters.http_delivery",   # webhook delivery (events function, pings)
    "chalicelib.cli",
    "argon2",                              # password hashing: register, login
    "jwt",                                 # tokens: authenticated requests
    "email_validator",                     # registration, members
    "python_multipart",                    # multipart uploads
    "pydantic",                            # domain models: every request but /health (Settings is a dataclass)
    "chalicelib.domain.models",
    "chalicelib.adapters.registry_store",  # /health pings the table itself; /metrics builds the store
    "aws_xray_sdk",                        # X-Ray: only with SPOKE_TRACING=true (powertools' Logger and EMF
                                           # metrics are loaded by the first request: ~10-25 ms, 41 modules)
)

CHILD = textwrap.dedent("""\
    import json, os, sys
    os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    import boto3
    from moto import mock_aws
    mock = mock_aws()
    mock.start()
    from infra.provision import provision
    os.environ.update(provision("cold", boto3.session.Session(region_name="us-east-1")),
                      SPOKE_JWT_SECRET="x" * 48, SPOKE_STAGE="cold",
                      SPOKE_METRICS_ALLOWED_CIDRS="127.0.0.1/32")  # the test client's address sees each check
    from chalice.test import Client
    harness = set(sys.modules)
    from app import app
    with Client(app) as client:
        response = client.http.get("/health")
    print(json.dumps({"harness": sorted(harness), "loaded": sorted(set(sys.modules) - harness),
                      "status": response.status_code, "body": json.loads(response.body)}))
""")


def _heavy(modules: list[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_import_and_first_health_check_load_no_heavy_module() -> None:
    # Given a fresh interpreter (nothing cached from other tests), on moto
    result = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    # The harness (moto, chalice.test) loads none of them itself, so the check below can see them all
    assert _heavy(report["harness"]) == []
    # When the app is imported and serves its first GET /health
    assert report["status"] == 200, report["body"]
    assert set(report["body"]["data"]["checks"]) == {"dynamodb", "s3", "sqs"}
    # Then none of the heavy modules was loaded, and the app's own code was (the check is not vacuous)
    assert _heavy(report["loaded"]) == []
    assert {"app", "chalicelib.wiring", "chalicelib.services.system", "chalicelib.adapters.dynamo"} <= set(
        report["loaded"])
