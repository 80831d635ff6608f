"""The fake's IAM front (tests/support/fake_gcp_run.py): what Cloud Run lets through to a revision, and what it refuses.

No gcloud: a service deployed in the fake's state, its URL and a tag's URL as real fronts, a loopback revision.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.support.deploy import PROJECT, REGION
from tests.support.fake_gcp import FakeGcp
from tests.support.fake_gcp_run import CUSTOM_AUDIENCES, TrafficRouter, deployed, get_service
from tests.support.id_tokens import GCLOUD_CLIENT_ID, mint
from tests.support.loopback_http import LoopbackService, QuietHandler, send_json

SERVICE = "penguin-species"


class Revision(QuietHandler):
    """A revision that answers every GET with 200 and the Authorization header it was given."""

    def do_GET(self) -> None:
        send_json(self, 200, json.dumps({"authorization": self.headers.get("Authorization")}).encode())


@pytest.fixture
def service():
    """(fake, service URL, the tag candidate's URL): one revision, all traffic on it, tagged candidate."""
    with LoopbackService(Revision) as revision:
        fake = FakeGcp(revision.url).start()
        router = TrafficRouter(fake, SERVICE)
        fake.function_url = router.url  # status.url: the service's URL is its front
        name = deployed(fake, PROJECT, REGION, SERVICE, {})
        fake.run_services[SERVICE]["spec"]["traffic"].append({"tag": "candidate", "revisionName": name, "percent": 0})
        fake.unreconciled[SERVICE] = 0
        _, described = get_service(fake, None, PROJECT, SERVICE)
        [tagged] = [t for t in described["status"]["traffic"] if t.get("tag") == "candidate"]
        fake.revision_urls[name] = revision.url
        yield fake, router.url, tagged["url"]
        router.stop()
        fake.stop()


def get(url: str, token: str | None) -> tuple[int, str, str]:
    """(status, content type, body) of GET url/health with this bearer token (None: no Authorization header)."""
    request = urllib.request.Request(f"{url}/health")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_a_tag_url_is_a_front_of_its_own_not_the_revision(service):
    fake, service_url, tag_url = service
    assert tag_url not in (service_url, *fake.revision_urls.values())


@pytest.mark.parametrize("which", ["service URL", "tag URL"])
def test_a_token_for_the_service_url_passes_both_urls(service, which):
    fake, service_url, tag_url = service
    token = mint(service_url)
    status, _, body = get(service_url if which == "service URL" else tag_url, token)
    assert status == 200 and json.loads(body) == {"authorization": f"Bearer {token}"}  # forwarded as sent
    assert fake.refused == []


@pytest.mark.parametrize(
    "token, why",
    [
        (None, "no identity token"),
        ("ya29.an-access-token", "not an ID token"),
        ("expired", "expired"),
        ("tag", "audience"),  # minted for the tag URL: not an audience Cloud Run documents as accepted
        ("elsewhere", "audience"),
    ],
    ids=["missing", "access-token", "expired", "tag-audience", "other-audience"],
)
@pytest.mark.parametrize("which", ["service URL", "tag URL"])
def test_what_cloud_run_refuses_gets_its_401_page_and_reaches_no_revision(service, token, why, which):
    fake, service_url, tag_url = service
    url = service_url if which == "service URL" else tag_url
    tokens = {
        "expired": mint(service_url, lifetime_s=-1),
        "tag": mint(tag_url),
        "elsewhere": mint("https://penguin-species-other-ew.a.run.app"),
    }
    status, content_type, body = get(url, tokens.get(token, token))
    assert status == 401 and content_type.startswith("text/html")  # Google's front end: a page, not JSON
    assert "<title>401 Unauthorized</title>" in body and "/health" in body
    [(refused_url, reason)] = fake.refused
    assert refused_url == url and why in reason


def test_a_custom_audience_and_a_users_gcloud_token_are_accepted(service):
    fake, service_url, tag_url = service
    custom = "https://penguins.example.com"
    assert get(tag_url, mint(custom))[0] == 401
    fake.run_services[SERVICE]["metadata"]["annotations"][CUSTOM_AUDIENCES] = json.dumps([custom])
    assert get(tag_url, mint(custom))[0] == 200
    assert get(service_url, mint(GCLOUD_CLIENT_ID, email="someone@example.com"))[0] == 200


def test_a_public_service_asks_for_no_token(service):
    fake, service_url, tag_url = service
    fake.run_policies[SERVICE] = {"bindings": [{"role": "roles/run.invoker", "members": ["allUsers"]}]}
    assert get(service_url, None)[0] == 200 and get(tag_url, None)[0] == 200
