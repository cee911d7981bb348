"""The stage of the rehearsal: stand-ins for what AWS would do around the handler.

``LocalCli`` replaces the handler's ``subprocess`` (and only that), ``CloudFormationListener``
receives its response, ``Rehearsal`` publishes assets and sends CloudFormation events.
"""

from __future__ import annotations

import importlib.util
import json
import queue
import subprocess
import threading
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any
from uuid import uuid4

import pytest

from tests.rehearsal.cloudformation import (
    ACCOUNT,
    DEPLOYMENT_TYPE,
    REGION,
    Assembly,
    as_cloudformation_sends,
    resolve,
    zip_like_cdk_cli,
)

ROOT = Path(__file__).resolve().parents[2]
AWS_CLI = ROOT / ".tools" / "awscli" / "bin" / "aws"
HANDLER_IN_TARBALL = (
    "package/custom-resource-handlers/dist/aws-s3-deployment/bucket-deployment-handler/index.py"
)
# Where the handler runs the CLI: the AwsCliLayer of the deployment's Lambda function.
LAMBDA_LAYER_CLI = "/opt/awscli/aws"
# The stand-in buckets: the bootstrap asset bucket's real name, and the prompt bucket's.
ASSET_BUCKET = f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"
PROMPT_BUCKET = "stand-in-prompt-bucket"
# Bounded waits: one CLI call, one handler invocation, its response, the S3 server's start.
CLI_TIMEOUT_S = 30
HANDLER_TIMEOUT_S = 90
RESPONSE_TIMEOUT_S = 5
SERVER_START_TIMEOUT_S = 10
# Any HTTP(S) request that is not to loopback is sent to this proxy, where nothing listens.
REFUSING_PROXY = "http://127.0.0.1:9"
# A test's user property holding a line of figures (wall times: shown, never asserted),
# which conftest.py prints at the end of every run.
FIGURES_PROPERTY = "rehearsal figures"


class LocalCli:
    """Stands in for ``subprocess`` inside the handler module, and for nothing else.

    The handler's own ``aws_command`` builds the command for the Lambda layer's CLI; this
    runs the same arguments with the local AWS CLI v1, in ``env``, within ``timeout_s``,
    and records them and what each printed (in Lambda, its log; here it would flood
    the test's output with a line per object).
    """

    def __init__(self, cli: Path, env: dict[str, str]) -> None:
        self.cli = cli
        self.env = env
        self.timeout_s: float = CLI_TIMEOUT_S
        self.commands: list[list[str]] = []
        self.outputs: list[str] = []

    def check_call(self, command: list[str]) -> int:
        executable, *arguments = command
        assert executable == LAMBDA_LAYER_CLI, f"the handler now runs {executable!r}"
        self.commands.append(arguments)
        done = subprocess.run(
            [str(self.cli), *arguments],
            env=self.env,
            timeout=self.timeout_s,
            stdout=subprocess.PIPE,
            check=True,
        )
        self.outputs.append(done.stdout.decode(errors="replace"))
        return done.returncode

    def clear(self) -> None:
        self.commands.clear()
        self.outputs.clear()


def handler_tarball() -> Path:
    """The jsii tarball of the installed aws-cdk-lib, which holds its custom-resource handlers."""
    spec = importlib.util.find_spec("aws_cdk")
    assert spec is not None and spec.origin is not None, "aws_cdk is not installed"
    (tarball,) = (Path(spec.origin).parent / "_jsii").glob("aws-cdk-lib@*.jsii.tgz")
    return tarball


class CloudFormationListener:
    """Receives the handler's response at ResponseURL, as CloudFormation would."""

    def __init__(self) -> None:
        responses: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()

        class Receiver(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                responses.put((self.path, json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.responses = responses
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=RESPONSE_TIMEOUT_S)


@dataclass(frozen=True)
class Deployment:
    """A synthesized BucketDeployment and its properties as CloudFormation would send them."""

    assembly: Assembly
    logical_id: str
    synthesized: dict[str, Any]
    properties: dict[str, Any]

    @property
    def lambda_timeout_s(self) -> int:
        """The handler function's Timeout in the template: how long Lambda lets it run."""
        function_id, _ = self.synthesized["ServiceToken"]["Fn::GetAtt"]
        timeout: int = self.assembly.template["Resources"][function_id]["Properties"]["Timeout"]
        return timeout


@dataclass
class Rehearsal:
    """Publishes assets and sends CloudFormation events to the real handler."""

    s3: Any
    handler: ModuleType
    cloudformation: CloudFormationListener
    s3_endpoint: str

    @property
    def cli(self) -> LocalCli:
        cli: LocalCli = self.handler.subprocess
        return cli

    def reset(self) -> None:
        """An empty S3 with the two stand-in buckets; the prompt bucket versioned, as ours is."""
        request = urllib.request.Request(f"{self.s3_endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_S):
            pass
        self.s3.create_bucket(Bucket=ASSET_BUCKET)
        self.s3.create_bucket(Bucket=PROMPT_BUCKET)
        self.s3.put_bucket_versioning(
            Bucket=PROMPT_BUCKET, VersioningConfiguration={"Status": "Enabled"}
        )
        self.cli.clear()

    def prepare(self, assembly: Assembly) -> Deployment:
        """Resolve the deployment's properties and publish its source zip, as the CLI would."""
        logical_id, synthesized = assembly.deployment()
        resources = assembly.template["Resources"]
        bucket_id = synthesized["DestinationBucketName"]["Ref"]
        assert resources[bucket_id]["Type"] == "AWS::S3::Bucket"
        function_id, _ = synthesized["ServiceToken"]["Fn::GetAtt"]
        arns = {
            bucket_id: f"arn:aws:s3:::{PROMPT_BUCKET}",
            function_id: f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_id}",
        }
        properties = as_cloudformation_sends(resolve(synthesized, {bucket_id: PROMPT_BUCKET}, arns))
        for bucket, key in zip(
            properties["SourceBucketNames"], properties["SourceObjectKeys"], strict=True
        ):
            assert bucket == ASSET_BUCKET, f"a source in {bucket}, not the bootstrap bucket"
            folder, packaging = assembly.file_asset_path(key)
            assert packaging == "zip", f"source {key} is a {packaging} asset"
            self.s3.put_object(Bucket=bucket, Key=key, Body=zip_like_cdk_cli(folder))
        return Deployment(assembly, logical_id, synthesized, properties)

    def send(
        self,
        request_type: str,
        deployment: Deployment,
        *,
        properties: dict[str, Any] | None = None,
        old: Deployment | None = None,
        physical_id: str | None = None,
        time_limit_s: float | None = None,
    ) -> dict[str, Any]:
        """One CloudFormation request to the handler; returns the response CloudFormation gets.

        The handler, and each CLI command it runs, must finish within ``time_limit_s``
        (default: HANDLER_TIMEOUT_S and CLI_TIMEOUT_S, bounds for small deployments).
        """
        request_id = str(uuid4())
        props = deployment.properties if properties is None else properties
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ServiceToken": props["ServiceToken"],
            "ResponseURL": f"{self.cloudformation.url}/response/{request_id}?X-Amz-Signature=x",
            "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/"
            f"{deployment.assembly.stack_name}/{uuid4()}",
            "RequestId": request_id,
            "LogicalResourceId": deployment.logical_id,
            "ResourceType": DEPLOYMENT_TYPE,
            "ResourceProperties": props,
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old is not None:
            event["OldResourceProperties"] = old.properties
        context = SimpleNamespace(
            log_stream_name=f"2026/01/01/[$LATEST]{request_id.replace('-', '')}",
            function_name=props["ServiceToken"].rsplit(":", 1)[-1],
            aws_request_id=str(uuid4()),
        )
        handler_limit = HANDLER_TIMEOUT_S if time_limit_s is None else time_limit_s
        self.cli.timeout_s = CLI_TIMEOUT_S if time_limit_s is None else time_limit_s
        worker = threading.Thread(target=self.handler.handler, args=(event, context), daemon=True)
        try:
            worker.start()
            worker.join(timeout=handler_limit)
        finally:
            self.cli.timeout_s = CLI_TIMEOUT_S
        assert not worker.is_alive(), f"the handler ran longer than {handler_limit} s"
        try:
            path, response = self.cloudformation.responses.get(timeout=RESPONSE_TIMEOUT_S)
        except queue.Empty:
            pytest.fail(f"the handler sent no response to CloudFormation for {request_type}")
        assert path.startswith(f"/response/{request_id}?"), f"a response to {path}"
        assert response["RequestId"] == request_id
        return response

    def objects(self, prefix: str = "") -> dict[str, tuple[str, bytes]]:
        """Every current object under ``prefix``: key -> (Content-Type, bytes).

        The listing is paged (1,000 keys a page); one GET per object gives both its
        Content-Type and its bytes.
        """
        found: dict[str, tuple[str, bytes]] = {}
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=PROMPT_BUCKET, Prefix=prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"]
                assert key not in found, f"the listing gave {key!r} twice"
                got = self.s3.get_object(Bucket=PROMPT_BUCKET, Key=key)
                found[key] = (got["ContentType"], got["Body"].read())
        return found

    def put_by_hand(self, key: str, body: bytes) -> None:
        """An object someone uploaded outside the deployment (the console, `aws s3 cp`)."""
        self.s3.put_object(Bucket=PROMPT_BUCKET, Key=key, Body=body, ContentType="audio/wav")
