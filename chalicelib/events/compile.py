"""The compile function: SQS compile queue -> CompilationService.run_job, with partial batch failures."""
from __future__ import annotations

import os

from chalice import Blueprint
from chalice.app import SQSEvent

from chalicelib.events.batch import process_batch
from chalicelib.wiring import services

bp = Blueprint(__name__)
# Read at import time, for the decorator only: the packaged template replaces the event source's queue
# with the stage's (`Fn::GetAtt` in infra/template.yaml; infra/package.py also imports with the stage's name).
COMPILE_QUEUE = os.environ.get("SPOKE_COMPILE_QUEUE_NAME", "spoke-dev-compile")


@bp.on_sqs_message(queue=COMPILE_QUEUE, batch_size=5)
def compile_versions(event: SQSEvent) -> dict:
    return process_batch(event, lambda body, final: services().compilation.run_job(body, final))
