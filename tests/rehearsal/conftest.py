"""The rehearsal's stage: a local S3, the real BucketDeployment handler, a CloudFormation ear.

- S3 is moto's server on 127.0.0.1 (a free port), with fake credentials.
- The handler is the ``index.py`` that ships in the pinned aws-cdk-lib wheel (its jsii
  tarball), extracted at test time and imported as is. It runs the AWS CLI through
  ``subprocess.check_call(["/opt/awscli/aws", ...])`` (the Lambda layer's path); the only
  stand-in is that call, which runs the same arguments with the AWS CLI v1 that
  ``make setup`` installs, in an environment that can only reach the local S3.
- Its CloudFormation response goes, as in AWS, by HTTP PUT to ResponseURL: a listener here.

Nothing may leave the machine: every AWS endpoint is the local server, and any other
HTTP(S) request goes through a proxy address on loopback that refuses it.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.rehearsal.cloudformation import REGION
from tests.rehearsal.stage import (
    AWS_CLI,
    FIGURES_PROPERTY,
    HANDLER_IN_TARBALL,
    REFUSING_PROXY,
    SERVER_START_TIMEOUT_S,
    CloudFormationListener,
    LocalCli,
    Rehearsal,
    handler_tarball,
)


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 on a free loopback port, stopped at the end whatever happens."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    starter = threading.Thread(target=server.start, daemon=True)
    starter.start()
    starter.join(timeout=SERVER_START_TIMEOUT_S)
    if starter.is_alive():
        pytest.fail(f"moto's server did not start within {SERVER_START_TIMEOUT_S} s")
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def aws_environment(s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Fake credentials, the local endpoint, no profile or config of the user's, no network."""
    home = tmp_path_factory.mktemp("aws-home")
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": s3_endpoint,
        # The handler resets this file on every request; in Lambda it is /tmp/aws_cli_config.
        "AWS_CONFIG_FILE": str(home / "aws_cli_config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "2",
        "HTTP_PROXY": REFUSING_PROXY,
        "HTTPS_PROXY": REFUSING_PROXY,
        "http_proxy": REFUSING_PROXY,
        "https_proxy": REFUSING_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


@pytest.fixture(scope="module")
def local_aws(aws_environment: dict[str, str]) -> Iterator[dict[str, str]]:
    """This process's environment set to ``aws_environment`` for the module, then restored."""
    with pytest.MonkeyPatch.context() as patch:
        for name in (
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_CA_BUNDLE",
            "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        ):
            patch.delenv(name, raising=False)
        for name, value in aws_environment.items():
            patch.setenv(name, value)
        yield aws_environment


@pytest.fixture(scope="module")
def s3(local_aws: dict[str, str]) -> Any:
    """A boto3 S3 client on the local server: the test's own eyes and hands."""
    return boto3.client("s3", endpoint_url=local_aws["AWS_ENDPOINT_URL"], region_name=REGION)


@pytest.fixture(scope="module")
def handler_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The BucketDeployment handler's index.py, extracted from the wheel into a tmp folder."""
    folder = tmp_path_factory.mktemp("bucket-deployment-handler")
    with tarfile.open(handler_tarball()) as archive:
        member = archive.extractfile(HANDLER_IN_TARBALL)
        assert member is not None, f"{HANDLER_IN_TARBALL} is not a file in the tarball"
        (folder / "index.py").write_bytes(member.read())
    return folder / "index.py"


@pytest.fixture(scope="module")
def handler_module(
    handler_source: Path, local_aws: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModuleType]:
    """The handler imported as Lambda imports it, its CLI calls going to the local CLI."""
    if not os.access(AWS_CLI, os.X_OK):
        pytest.fail(f"no AWS CLI v1 at {AWS_CLI}; run `make setup`")
    root_level = logging.getLogger().level
    spec = importlib.util.spec_from_file_location("bucket_deployment_handler", handler_source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        # Its import os.putenv()s AWS_CONFIG_FILE=/tmp/aws_cli_config behind os.environ's back;
        # the file it resets (and the CLI reads) is ours instead, not a shared /tmp file.
        os.putenv("AWS_CONFIG_FILE", local_aws["AWS_CONFIG_FILE"])
        cli_env = {
            **local_aws,
            "HOME": str(tmp_path_factory.mktemp("cli-home")),
            "PATH": os.defpath,
            "LANG": "C.UTF-8",
        }
        vars(module).update(
            AWS_CLI_CONFIG_FILE=local_aws["AWS_CONFIG_FILE"],
            subprocess=LocalCli(AWS_CLI, cli_env),
        )
        yield module
    finally:
        logging.getLogger().setLevel(root_level)


@pytest.fixture(scope="module")
def cloudformation() -> Iterator[CloudFormationListener]:
    listener = CloudFormationListener()
    try:
        yield listener
    finally:
        listener.close()


@pytest.fixture(scope="module")
def stage(
    s3: Any,
    handler_module: ModuleType,
    cloudformation: CloudFormationListener,
    s3_endpoint: str,
) -> Rehearsal:
    """The rehearsal's tools, shared by the module; call ``reset()`` before a scenario."""
    return Rehearsal(s3, handler_module, cloudformation, s3_endpoint)


@pytest.fixture
def rehearsal(stage: Rehearsal) -> Rehearsal:
    """The stage with a fresh S3 (two empty stand-in buckets), for one test."""
    stage.reset()
    return stage


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The rehearsals' figures at the end of the run, with or without ``-s``."""
    lines = [
        str(value)
        for report in terminalreporter.stats.get("passed", [])
        for name, value in report.user_properties
        if name == FIGURES_PROPERTY
    ]
    if lines:
        terminalreporter.write_sep("-", "deploy rehearsal figures (wall times, not asserted)")
        for line in lines:
            terminalreporter.write_line(line)
