"""JMAP core (RFC 8620) on Pigeon's HTTP service: the session resource, authentication, the
request envelope and its errors, limits, result references, Core/echo, uploads and
downloads. Mail methods are in test_jmap_mail.py."""

import json

import jmap_helpers as J

web = J.jmap_fixture("jmap_api", jmap={"max_calls_in_request": 4, "max_objects_in_get": 3,
                                       "max_size_request": 8192})


def test_session_resource(web):
    c = J.Client(web)
    s = c.session
    assert set(s["capabilities"]) == {J.CORE, J.MAIL, J.SUBMISSION,
                                      "urn:ietf:params:jmap:vacationresponse",
                                      "urn:ietf:params:jmap:websocket"}
    core = s["capabilities"][J.CORE]
    assert core["maxCallsInRequest"] == 4 and core["maxObjectsInGet"] == 3
    assert core["maxSizeRequest"] == 8192
    acc = s["primaryAccounts"][J.MAIL]
    assert acc.startswith("u") and s["accounts"][acc]["name"] == "alice@hamburger.edu"
    assert s["username"] == "alice@hamburger.edu"
    assert s["apiUrl"] == web.url("/jmap/api/")
    assert "{blobId}" in s["downloadUrl"] and "{accountId}" in s["uploadUrl"]
    # Another user has another account; the session state is what API responses carry.
    b = J.Client(web, "bob@hamburger.edu")
    assert b.account != acc
    r = c.post({"using": [J.CORE], "methodCalls": []})[1]
    assert r["sessionState"] == s["state"]


def test_authentication_required(web):
    c = J.Client(web)
    c.password = "wrong"
    status, headers, _ = c.raw("GET", "/.well-known/jmap")
    assert status == 401 and "Basic" in headers.get("WWW-Authenticate", "")
    status, _, _ = c.raw("POST", "/jmap/api/", b"{}")
    assert status == 401
    import urllib.request
    import urllib.error
    try:
        urllib.request.urlopen(web.url("/.well-known/jmap"), timeout=30)
        raise AssertionError("no credentials accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 401


def test_core_echo_rfc8620_example(web):
    # RFC 8620 §4.1
    c = J.Client(web)
    args = {"hello": True, "high": 5}
    r = c.calls([["Core/echo", args, "b3ff"]], using=[J.CORE])
    assert r == [["Core/echo", args, "b3ff"]]


def test_request_level_errors(web):
    c = J.Client(web)
    status, r = c.post(b"{this is not json")
    assert status == 400 and r["type"] == "urn:ietf:params:jmap:error:notJSON"
    status, r = c.post({"using": [J.CORE]})
    assert status == 400 and r["type"] == "urn:ietf:params:jmap:error:notRequest"
    status, r = c.post({"using": [J.CORE], "methodCalls": [["Core/echo", {}]]})
    assert status == 400 and r["type"] == "urn:ietf:params:jmap:error:notRequest"
    status, r = c.post({"using": ["urn:example:nope"], "methodCalls": []})
    assert status == 400 and r["type"] == "urn:ietf:params:jmap:error:unknownCapability"
    calls = [["Core/echo", {}, "c%d" % i] for i in range(5)]
    status, r = c.post({"using": [J.CORE], "methodCalls": calls})
    assert status == 400 and r["type"] == "urn:ietf:params:jmap:error:limit"
    assert r["limit"] == "maxCallsInRequest"
    big = {"using": [J.CORE], "methodCalls": [["Core/echo", {"x": "y" * 9000}, "0"]]}
    status, r = c.post(big)
    assert status == 400 and r["limit"] == "maxSizeRequest"
    # GET on the API endpoint, POST on the session resource
    assert c.raw("GET", "/jmap/api/")[0] == 405
    assert c.raw("POST", "/.well-known/jmap", b"{}")[0] == 405


def test_method_level_errors(web):
    c = J.Client(web)
    r = c.calls([["Nope/get", {}, "a"],
                 ["Mailbox/get", {"accountId": "u999999"}, "b"],
                 ["Mailbox/get", {"accountId": c.account, "properties": ["bogus"]}, "c"],
                 ["Core/echo", {"ok": 1}, "d"]])
    assert r[0] == ["error", {"type": "unknownMethod"}, "a"]
    assert r[1][0] == "error" and r[1][1]["type"] == "accountNotFound"
    assert r[2][0] == "error" and r[2][1]["type"] == "invalidArguments"
    assert r[3] == ["Core/echo", {"ok": 1}, "d"]  # later calls still run
    # A method whose capability is not in "using" is unknown.
    r = c.calls([["Mailbox/get", {"accountId": c.account}, "a"]], using=[J.CORE])
    assert r[0][1]["type"] == "unknownMethod"
    # maxObjectsInGet
    r = c.calls([["Mailbox/get", {"accountId": c.account, "ids": ["m1", "m2", "m3", "m4"]},
                  "a"]])
    assert r[0][1]["type"] == "requestTooLarge"


def test_result_references(web):
    c = J.Client(web)
    # RFC 8620 §3.7: ids from one call feed the next; "*" maps over an array.
    r = c.calls([
        ["Mailbox/query", {"accountId": c.account, "filter": {"role": "inbox"}}, "q"],
        ["Mailbox/get", {"accountId": c.account,
                         "#ids": {"resultOf": "q", "name": "Mailbox/query", "path": "/ids"}},
         "g"],
        ["Core/echo", {"#names": {"resultOf": "g", "name": "Mailbox/get",
                                  "path": "/list/*/name"}}, "e"],
    ])
    assert r[1][1]["list"][0]["role"] == "inbox"
    assert r[2][1] == {"names": ["INBOX"]}
    bad = c.calls([
        ["Core/echo", {"#x": {"resultOf": "nope", "name": "Core/echo", "path": "/a"}}, "e"],
        ["Core/echo", {"a": 1}, "f"],
        ["Core/echo", {"#x": {"resultOf": "f", "name": "Core/echo", "path": "/missing"}}, "g"],
        ["Core/echo", {"x": 1, "#x": {"resultOf": "f", "name": "Core/echo", "path": "/a"}},
         "h"],
    ])
    assert bad[0][1]["type"] == "invalidResultReference"
    assert bad[2][1]["type"] == "invalidResultReference"
    assert bad[3][1]["type"] == "invalidArguments"


def test_upload_download_roundtrip(web):
    c = J.Client(web)
    data = bytes(range(256)) * 40
    up = c.upload(data, "application/x-test")
    assert up["size"] == len(data) and up["type"] == "application/x-test"
    assert up["accountId"] == c.account
    path = "/jmap/download/%s/%s/file.bin?accept=application/x-test" % (c.account, up["blobId"])
    status, headers, body = c.raw("GET", path)
    assert status == 200 and body == data
    assert headers["Content-Type"] == "application/x-test"
    # Another user cannot read it, nor can anyone through another account's URL.
    b = J.Client(web, "bob@hamburger.edu")
    assert b.raw("GET", path)[0] == 404
    path_b = "/jmap/download/%s/%s/file.bin" % (b.account, up["blobId"])
    assert b.raw("GET", path_b)[0] == 404
    # An upload into another account is refused.
    status, _, _ = b.raw("POST", "/jmap/upload/%s/" % c.account, b"x",
                         {"Content-Type": "text/plain"})
    assert status == 404
    # Malformed blob ids
    for bad in ("nothex", "b" + "0" * 32, "b" + "z" * 32, "b" + "0" * 32 + "-1_x"):
        assert c.raw("GET", "/jmap/download/%s/%s/x" % (c.account, bad))[0] == 404


def test_server_survives_garbage(web):
    c = J.Client(web)
    junk = [b"", b"[]", b"null", b'{"using":[1],"methodCalls":[]}', b'{"using":[],"methodCalls":[[1,2,3]]}',
            b'{"using":[],"methodCalls":[["Core/echo",{},"x"]],"createdIds":5}',
            json.dumps({"using": [J.CORE, J.MAIL], "methodCalls": [
                ["Email/get", {"accountId": c.account, "ids": "x"}, "a"],
                ["Email/query", {"accountId": c.account, "filter": {"operator": "XOR"}}, "b"],
                ["Email/query", {"accountId": c.account, "sort": [{"property": "nope"}]}, "c"],
                ["Email/changes", {"accountId": c.account, "sinceState": "garbage"}, "d"],
            ]}).encode(),
            json.dumps({"using": [J.CORE, J.MAIL], "methodCalls": [
                ["Mailbox/set", {"accountId": c.account, "create": {"k": {"name": ""}}}, "e"],
            ]}).encode()]
    for body in junk:
        status, r = c.post(body)
        assert status in (200, 400), body
    status, r = c.post(junk[-2])
    types = [x[1].get("type") for x in r["methodResponses"]]
    assert types == ["invalidArguments", "unsupportedFilter", "unsupportedSort",
                     "cannotCalculateChanges"]
    status, r = c.post(junk[-1])
    assert "k" in r["methodResponses"][0][1]["notCreated"]
    assert c.calls([["Core/echo", {"still": "up"}, "z"]], using=[J.CORE])[0][1] == {"still": "up"}
