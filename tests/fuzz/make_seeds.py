#!/usr/bin/env python3
"""Writes the committed seed corpora under tests/fuzz/seeds/<target>/ from the shared
kubeconfig corpus and kubectl transcripts (what a real kubectl met: Status bodies, attach
frames, watch events). Run from anywhere: python3 tests/fuzz/make_seeds.py [SHARED_DIR].
The files seeds/watch/fakecluster-*.txt are watch bodies captured from fakecluster and are
kept as they are."""
import glob
import hashlib
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../../shared")
SEEDS = os.path.join(HERE, "seeds")


def put(target, name, data):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    name = name.replace("/", "_")
    if len(name) > 80:
        name = name[:60] + "-" + hashlib.sha1(data).hexdigest()[:12]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# Kubeconfig files: seeds for the YAML reader and the kubeconfig loader.
for path in sorted(glob.glob(os.path.join(SHARED, "kubeconfig-corpus/cases/*/**"), recursive=True)):
    if not os.path.isfile(path):
        continue
    base = os.path.basename(path)
    if base.startswith("expected") or base in ("cmd", "README") or os.path.getsize(path) > 65536:
        continue
    case = path.split("/cases/")[1]
    data = open(path, "rb").read()
    put("kubeconfig", case, data)
    put("yaml", case, data)
for path in sorted(glob.glob(os.path.join(SHARED, "kubectl-transcripts/scenario_files/*"))):
    if path.endswith((".yaml", ".json", ".txt")):
        put("yaml", "scenario-" + os.path.basename(path), open(path, "rb").read())


def pod_event(kind, name, rv, states):
    statuses = []
    for cname, st in sorted(states.items()):
        state = st[0] if isinstance(st, list) and st else st
        body = {"waiting": {"reason": "ContainerCreating"}} if state == "waiting" else {state: {}}
        if state == "terminated":
            body = {"terminated": {"exitCode": 0, "reason": "Completed"}}
        statuses.append({"name": cname, "state": body})
    return {
        "type": kind,
        "object": {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {"name": name, "namespace": "default", "resourceVersion": rv},
            "status": {"phase": "Running", "ephemeralContainerStatuses": statuses},
        },
    }


for path in sorted(glob.glob(os.path.join(SHARED, "kubectl-transcripts/*.jsonl"))):
    scenario = os.path.basename(path)[: -len(".jsonl")]
    for line in open(path):
        r = json.loads(line)
        seq = r.get("seq", 0)
        resp = r.get("response") or {}
        # Error responses: the Status bodies the server sent, behind their HTTP code.
        if resp.get("status", 0) >= 300 and isinstance(resp.get("body"), dict):
            body = json.dumps(resp["body"], separators=(",", ":")).encode()
            put("status", f"{scenario}-{seq}-{resp['status']}", struct.pack(">H", resp["status"]) + body)
        # Watch events, rebuilt as the API server writes them (one JSON object a line).
        w = r.get("watch")
        if isinstance(w, dict) and w.get("events_sent"):
            lines = [
                json.dumps(pod_event(e["type"], e.get("name", ""), e.get("resourceVersion", ""),
                                     e.get("container_states", {})), separators=(",", ":"))
                for e in w["events_sent"]
            ]
            put("watch", f"{scenario}-{seq}", "\n".join(lines) + "\n")
        # Attach frames: channel byte then payload; status-channel payloads for decode_status.
        ws = r.get("websocket")
        if isinstance(ws, dict):
            for i, fr in enumerate(ws.get("frames_sent", [])):
                if "channel" not in fr:
                    continue
                data = bytes([fr["channel"]]) + fr.get("data", "").encode()
                put("frames", f"{scenario}-{seq}-{i}", data)
                if fr["channel"] == 3:
                    put("status", f"{scenario}-{seq}-{i}-channel3", struct.pack(">H", 200) + data[1:])

# Shapes the transcripts do not show.
put("frames", "empty", b"")
put("frames", "close-stdin", bytes([255, 0]))
put("frames", "resize", b'\x04{"Width":80,"Height":24}\n')
nz = {"metadata": {}, "status": "Failure", "message": "command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3",
      "reason": "NonZeroExitCode", "details": {"causes": [{"reason": "ExitCode", "message": "3"}]}}
put("frames", "status-nonzero", b"\x03" + json.dumps(nz).encode())
put("status", "channel3-nonzero", struct.pack(">H", 200) + json.dumps(nz).encode())
invalid = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": "Pod \"web\" is invalid: spec.ephemeralContainers[0].name: Duplicate value: \"app\"", "reason": "Invalid",
           "details": {"name": "web", "kind": "Pod", "causes": [{"reason": "FieldValueDuplicate", "message": "Duplicate value: \"app\"", "field": "spec.ephemeralContainers[0].name"},
                                                                  {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.ephemeralContainers[0].image"}]}, "code": 422}
put("status", "invalid-two-causes", struct.pack(">H", 422) + json.dumps(invalid).encode())
put("status", "html-502", struct.pack(">H", 502) + b"<html><body>Bad Gateway</body></html>")
put("watch", "bookmark-error-garbage",
    b'{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"12345"}}}\n\n'
    b'{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}}\n\x00\xffgarbage\n')
