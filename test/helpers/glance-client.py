#!/usr/bin/python3
"""Drive the real python-glanceclient (Image API v2) against a Glance endpoint without Keystone.

Used by the OpenCTS tests (see docs/glance-testing.md). Run it with Debian's interpreter,
/usr/bin/python3, which is where python3-glanceclient is installed:

    /usr/bin/python3 test/helpers/glance-client.py \
        --endpoint http://127.0.0.1:PORT \
        --owner-headers '{"X-Identity-Status": "Confirmed", "X-Project-Id": "...", ...}' \
        --member-headers '{"X-Identity-Status": "Confirmed", "X-Project-Id": "...", ...}'

The identity headers are sent on every request (glanceclient's `identity_headers`), together with
`X-Auth-Token` (any value: no Keystone checks it). The owner project creates, renames, uploads,
tags, shares and deletes the image; the member project (the recipient) accepts the membership,
as only the recipient may change a membership's status.

Prints one JSON object per line and step:
    {"step": "create_image", "ok": true, "method": "POST", "path": "/v2/images", ...}
and a last line {"step": "done", "ok": true|false}. Exits 0 when every step succeeded, 1 when one
failed (the failing step's line has "ok": false and "error"), 2 on bad arguments.
"""

import argparse
import io
import json
import sys
import traceback


def emit(record):
    sys.stdout.write(json.dumps(record, sort_keys=True) + "\n")
    sys.stdout.flush()


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="http://127.0.0.1:PORT (no /v2)")
    parser.add_argument("--owner-headers", required=True, help="JSON object of identity headers")
    parser.add_argument("--member-headers", required=True, help="JSON object of identity headers")
    parser.add_argument("--token", default="opencts-test-token", help="X-Auth-Token value")
    parser.add_argument("--name", default="opencts-test-image")
    parser.add_argument("--new-name", default=None, help="default: NAME-renamed")
    parser.add_argument("--tag", default="opencts-tag")
    parser.add_argument("--data", default="OpenCTS test image payload\n", help="bytes to upload")
    args = parser.parse_args(argv)
    for field in ("owner_headers", "member_headers"):
        value = json.loads(getattr(args, field))
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            parser.error("--%s must be a JSON object of strings" % field.replace("_", "-"))
        setattr(args, field, value)
    if not args.member_headers.get("X-Project-Id"):
        parser.error("--member-headers needs X-Project-Id (the member project id)")
    if args.new_name is None:
        args.new_name = args.name + "-renamed"
    return args


def make_client(endpoint, token, headers):
    from glanceclient import Client

    # identity_headers is copied: glanceclient pops X-Auth-Token out of the dict it is given.
    return Client("2", endpoint=endpoint, token=token, identity_headers=dict(headers))


def run(args):
    from glanceclient import exc

    owner = make_client(args.endpoint, args.token, args.owner_headers)
    member = make_client(args.endpoint, args.token, args.member_headers)
    owner_project = args.owner_headers.get("X-Project-Id")
    member_project = args.member_headers["X-Project-Id"]
    state = {"image_id": None}

    def step(name, method, path_fn, action):
        path = None
        try:
            extra = action() or {}
            path = path_fn()
            emit(dict({"step": name, "ok": True, "method": method, "path": path}, **extra))
            return True
        except Exception as error:  # report every failure as a JSON line, then stop
            emit(
                {
                    "step": name,
                    "ok": False,
                    "method": method,
                    "path": path,
                    "image_id": state["image_id"],
                    "error": "%s: %s" % (type(error).__name__, error),
                    "traceback": traceback.format_exc(limit=3),
                }
            )
            return False

    def image_path(suffix=""):
        return lambda: "/v2/images/%s%s" % (state["image_id"], suffix)

    def create():
        image = owner.images.create(
            name=args.name, disk_format="raw", container_format="bare", visibility="shared"
        )
        state["image_id"] = image["id"]
        return {
            "image_id": image["id"],
            "name": image["name"],
            "owner": image.get("owner"),
            "visibility": image.get("visibility"),
            "status": image.get("status"),
            "project_id": owner_project,
        }

    def rename():
        image = owner.images.update(state["image_id"], name=args.new_name)
        return {"image_id": image["id"], "old_name": args.name, "name": image["name"]}

    def upload():
        payload = args.data.encode("utf-8")
        owner.images.upload(state["image_id"], io.BytesIO(payload), image_size=len(payload))
        image = owner.images.get(state["image_id"])
        return {
            "image_id": image["id"],
            "name": image["name"],
            "size": image.get("size"),
            "status": image.get("status"),
            "checksum": image.get("checksum"),
        }

    def add_tag():
        owner.image_tags.update(state["image_id"], args.tag)
        image = owner.images.get(state["image_id"])
        return {"image_id": image["id"], "name": image["name"], "tag": args.tag, "tags": image["tags"]}

    def delete_tag():
        owner.image_tags.delete(state["image_id"], args.tag)
        image = owner.images.get(state["image_id"])
        return {"image_id": image["id"], "name": image["name"], "tag": args.tag, "tags": image["tags"]}

    def add_member():
        m = owner.image_members.create(state["image_id"], member_project)
        return {
            "image_id": m["image_id"],
            "name": args.new_name,
            "member_id": m["member_id"],
            "status": m["status"],
            "project_id": owner_project,
        }

    def accept_member():
        m = member.image_members.update(state["image_id"], member_project, "accepted")
        return {
            "image_id": m["image_id"],
            "name": args.new_name,
            "member_id": m["member_id"],
            "status": m["status"],
            "project_id": member_project,
        }

    def delete_member():
        owner.image_members.delete(state["image_id"], member_project)
        remaining = [m["member_id"] for m in owner.image_members.list(state["image_id"])]
        if member_project in remaining:
            raise RuntimeError("member %s still listed after delete" % member_project)
        return {
            "image_id": state["image_id"],
            "name": args.new_name,
            "member_id": member_project,
            "project_id": owner_project,
        }

    def delete_image():
        owner.images.delete(state["image_id"])
        try:
            owner.images.get(state["image_id"])
        except exc.HTTPNotFound:
            return {"image_id": state["image_id"], "name": args.new_name, "deleted": True}
        raise RuntimeError("image %s still readable after delete" % state["image_id"])

    steps = [
        ("create_image", "POST", lambda: "/v2/images", create),
        ("update_image", "PATCH", image_path(), rename),
        ("upload_image", "PUT", image_path("/file"), upload),
        ("add_tag", "PUT", image_path("/tags/" + args.tag), add_tag),
        ("delete_tag", "DELETE", image_path("/tags/" + args.tag), delete_tag),
        ("add_member", "POST", image_path("/members"), add_member),
        ("update_member", "PUT", image_path("/members/" + member_project), accept_member),
        ("delete_member", "DELETE", image_path("/members/" + member_project), delete_member),
        ("delete_image", "DELETE", image_path(), delete_image),
    ]
    for name, method, path_fn, action in steps:
        if not step(name, method, path_fn, action):
            if state["image_id"] is not None and name != "delete_image":
                try:  # best effort: leave no image behind
                    owner.images.delete(state["image_id"])
                except Exception:
                    pass
            emit({"step": "done", "ok": False, "image_id": state["image_id"]})
            return 1
    emit({"step": "done", "ok": True, "image_id": state["image_id"]})
    return 0


def main(argv):
    args = parse_args(argv)
    try:
        import glanceclient  # noqa: F401
    except ImportError as error:
        emit({"step": "import", "ok": False, "error": "%s (run .ci/run to install python3-glanceclient)" % error})
        return 1
    return run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
