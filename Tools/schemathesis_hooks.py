"""Schemathesis hooks for Tools/api-fuzz: every generated request that needs a token gets a
freshly registered guest's, so destructive operations (sign-out, erasure) never spoil the
requests after them."""
import json
import os
import urllib.request
import uuid

import schemathesis

BASE = os.environ["LEARNSYNC_FUZZ_URL"]


def new_guest_token() -> str:
    body = json.dumps({
        "protocol": 1,
        "learner": "g-fuzz-" + uuid.uuid4().hex,
        "secret": "fuzz-device-secret-" + uuid.uuid4().hex,
    }).encode()
    request = urllib.request.Request(BASE + "/v1/guests", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["token"]


@schemathesis.auth()
class FreshGuest:
    def get(self, case, ctx):
        return new_guest_token()

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = "Bearer " + new_guest_token()
