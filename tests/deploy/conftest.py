"""Fixtures of the deploy tests: the fake Google APIs, and a real function serving from fake-gcs-server."""

from __future__ import annotations

import pytest

from tests.support.deploy import clean_env
from tests.support.fake_gcp import FakeGcp
from tests.support.id_tokens import mint
from tests.support.paths import BUCKET


@pytest.fixture
def cloud(gcs, tmp_path):
    """Start the fake Google APIs reporting a given function URL; returns (fake, env for deploy.sh)."""
    fakes = []
    token = tmp_path / "access-token"
    token.write_text("fake-access-token")

    def start(function_url: str) -> tuple[FakeGcp, dict[str, str]]:
        fake = FakeGcp(function_url).start()
        fakes.append(fake)
        # An identity token for the service's URL, as deploy.sh mints one (the fake's IAM fronts check its audience)
        id_token = mint(function_url)
        env = clean_env(**fake.env(tmp_path / "gcloud-config", token), ID_TOKEN=id_token, SMOKE_RETRIES="0")
        return fake, env  # STORAGE_EMULATOR_HOST (gcs) is in os.environ: the model goes to fake-gcs-server

    yield start
    for fake in fakes:
        fake.stop()
    # Every exchange of the fakes, held to Google's discovery documents (tests/support/discovery.py)
    assert [error for fake in fakes for error in fake.schema_errors] == []


@pytest.fixture
def function_server(gcs, start_server):
    """The real function, serving what deploy.sh publishes to fake-gcs-server."""
    return start_server(MODEL_URI=f"gs://{BUCKET}/penguins", MODEL_FALLBACK="none")
