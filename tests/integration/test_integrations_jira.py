"""Jira against a local stand-in of its REST API: search, create, update, transitions."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from ampp.notify.integrations.jira import JiraIntegration
from ampp.notify.stage import NotifyError

from tests.support.integrations import build_integration, ctx
from tests.support.vendors import (
    GROUP_KEY,
    RESOLVED_AT,
    Reply,
    VendorServer,
    api_alerts,
    to_alerts,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("built_integrations")]

LABEL = f"ALERT{{{hashlib.sha256(GROUP_KEY.encode()).hexdigest()}}}"


@pytest.fixture
def vendor() -> Iterator[VendorServer]:
    with VendorServer() as v:
        v.reply("/search", Reply(200, {"issues": []}))
        v.reply("/search/jql", Reply(200, {"issues": []}))
        v.reply("/issue", Reply(201, {"id": "10000", "key": "OPS-1"}))
        yield v


def jira(receiver_yaml: str) -> JiraIntegration:
    return build_integration(JiraIntegration, receiver_yaml)


BASE = """\
  jira_configs:
  - api_url: '{url}/rest/api/2/'
    project: OPS
    issue_type: Bug
    summary: 'Disk is full'
    description: 'It is full'
    priority: High
    labels: [alertmanager, '{{ .CommonLabels.severity }}']
    resolve_transition: Done
    reopen_transition: Reopen
    reopen_duration: 1h
    http_config:
      basic_auth: {username: bot@example.com, password: api-t0k3n}
"""


def issue(status_category: str) -> dict[str, object]:
    return {
        "issues": [
            {"key": "OPS-7", "fields": {"status": {"name": "x", "statusCategory": {"key": status_category}}}}
        ]
    }


async def test_creates_an_issue_when_none_exists(vendor: VendorServer) -> None:
    j = jira(BASE.replace("{url}", vendor.url).replace("'{{ .CommonLabels.severity }}'", "disk"))
    await j.notify(ctx(), to_alerts(api_alerts(1)))
    search, create = vendor.requests
    assert (search.method, search.path) == ("POST", "/rest/api/2/search")
    assert search.headers["Authorization"] == "Basic Ym90QGV4YW1wbGUuY29tOmFwaS10MGszbg=="
    assert search.headers["Accept-Language"] == "en"
    assert search.json() == {
        "fields": ["status"],
        "jql": f'(resolutiondate is EMPTY OR resolutiondate >= -60m) and project="OPS" and labels="{LABEL}" '
        "order by status ASC,resolutiondate DESC",
        "maxResults": 2,
    }
    assert (create.method, create.path) == ("POST", "/rest/api/2/issue")
    assert create.body.decode() == (
        '{"fields":{"description":"It is full","issuetype":{"name":"Bug"},'
        f'"labels":["{LABEL}","alertmanager","disk"],"priority":{{"name":"High"}},'
        '"project":{"key":"OPS"},"summary":"Disk is full"}}\n'
    )


async def test_resolved_group_without_issue_creates_nothing(vendor: VendorServer) -> None:
    j = jira(BASE.replace("{url}", vendor.url))
    await j.notify(ctx(), to_alerts(api_alerts(1, ends_at=RESOLVED_AT)))
    (search,) = vendor.requests
    assert "statusCategory != Done and " in search.json()["jql"]


async def test_resolving_updates_and_transitions_the_issue(vendor: VendorServer) -> None:
    vendor.reply("/search", Reply(200, issue("indeterminate")))
    vendor.reply("/issue/OPS-7", Reply(204))
    vendor.reply(
        "/issue/OPS-7/transitions",
        Reply(200, {"transitions": [{"id": "11", "name": "Reopen"}, {"id": "31", "name": "Done"}]}),
    )
    j = jira(
        BASE.replace("{url}", vendor.url).replace(
            "    summary: 'Disk is full'\n", "    summary: {template: 'new summary', enable_update: false}\n"
        )
    )
    await j.notify(ctx(), to_alerts(api_alerts(1, ends_at=RESOLVED_AT)))
    _search, update, get_transitions, transition = vendor.requests
    assert (update.method, update.path) == ("PUT", "/rest/api/2/issue/OPS-7")
    assert "summary" not in update.json()["fields"]  # enable_update: false
    assert (get_transitions.method, get_transitions.path) == ("GET", "/rest/api/2/issue/OPS-7/transitions")
    assert (transition.method, transition.path) == ("POST", "/rest/api/2/issue/OPS-7/transitions")
    assert transition.json() == {"transition": {"id": "31"}}


async def test_firing_again_reopens_a_done_issue(vendor: VendorServer) -> None:
    vendor.reply("/search", Reply(200, issue("done")))
    vendor.reply("/issue/OPS-7", Reply(204))
    vendor.reply("/issue/OPS-7/transitions", Reply(200, {"transitions": [{"id": "11", "name": "Reopen"}]}))
    j = jira(BASE.replace("{url}", vendor.url))
    await j.notify(ctx(), to_alerts(api_alerts(1)))
    assert vendor.requests[-1].json() == {"transition": {"id": "11"}}


async def test_cloud_search_v3_and_adf_description(vendor: VendorServer) -> None:
    j = jira(
        "  jira_configs:\n  - api_url: '{url}/rest/api/3'\n    project: OPS\n    issue_type: Task\n"
        "    api_type: cloud\n"
        '    description: \'{"type":"doc","version":1,"content":[{"type":"paragraph","content":'
        '[{"type":"text","text":"{{ .Status }}"}]}]}\'\n'
        "    fields:\n      customfield_10001: '{{ .Alerts | len }}'\n"
        "      customfield_10002: [a, '{{ .Status }}']\n"
        '      components: \'[{"name": "storage"}]\'\n'.replace("{url}", vendor.url)
    )
    await j.notify(ctx(), to_alerts(api_alerts(2)))
    search, create = vendor.requests
    assert search.path == "/rest/api/3/search/jql"
    fields = create.json()["fields"]
    assert fields["description"] == {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "firing"}]}],
    }
    # rendered values that read as YAML become structured, as upstream's DeepCopyWithTemplate
    assert fields["customfield_10001"] == 2
    assert fields["customfield_10002"] == ["a", "firing"]
    assert fields["components"] == [{"name": "storage"}]


async def test_invalid_adf_is_permanent(vendor: VendorServer) -> None:
    j = jira(
        "  jira_configs:\n  - api_url: '{url}/rest/api/3'\n    project: OPS\n    issue_type: Task\n"
        "    description: 'not json'\n".replace("{url}", vendor.url)
    )
    with pytest.raises(NotifyError) as e:
        await j.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry and str(e.value) == "description template: invalid JSON for API v3"


async def test_status_codes(vendor: VendorServer) -> None:
    j = jira(BASE.replace("{url}", vendor.url))
    vendor.reply("/search", Reply(429, {"errorMessages": ["rate limited"]}, headers={"Retry-After": "9"}))
    with pytest.raises(NotifyError) as rl:
        await j.notify(ctx(), to_alerts(api_alerts(1)))
    assert rl.value.retry_after == 9.0
    vendor.reply("/search", Reply(200, {"issues": []}))
    vendor.reply("/issue", Reply(400, {"errors": {"priority": "Priority name 'High' is not valid"}}))
    with pytest.raises(NotifyError) as e:
        await j.notify(ctx(), to_alerts(api_alerts(1)))
    assert not e.value.retry
    assert str(e.value).startswith('failed to POST request to "issue": unexpected status code 400: ')
