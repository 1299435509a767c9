"""Small helpers the GitHub workflows call, so the logic is in Python (tested) rather than in shell inside YAML.

    python -m tools.ci changed-services BASE HEAD   JSON list of services whose `services/<name>/` changed
    python -m tools.ci ecr-prefix STACK             the stack's `delivery.ecrRepositoryPrefix`
    python -m tools.ci set-image-tags STACK TAG SVC...   pin `cluster.imageTags.<svc>: TAG` in Pulumi.<STACK>.yaml
    python -m tools.ci push-image REPO TAG LOCAL     push LOCAL as REPO:TAG to ECR unless REPO already has TAG
    python -m tools.ci pr-comment MARKER FILE        post FILE on the pull request, or edit the comment MARKER made

`push-image` calls the AWS CLI and docker (the workflow's credentials); `pr-comment` calls GitHub's REST API with the
job's token (GH_TOKEN, GITHUB_REPOSITORY, PR_NUMBER from the environment); the others need no network and no Pulumi
CLI: the workflow commits the edited stack file in a pull request, so an image reaches a
stack only through a reviewed change that its own preview has shown.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from components.contracts import SERVICES

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "ecommerce-platform"
#: Where the ServiceMesh reads each service's image tag: `cluster.imageTags.<service>`.
IMAGE_TAGS_SECTION, IMAGE_TAGS_KEY = "cluster", "imageTags"
_SHA = re.compile(r"[0-9a-f]{7,40}")
_ALL_ZEROS = re.compile(r"0{40}")


def changed_services(paths: Sequence[str]) -> list[str]:
    """The services (in catalogue order) with a changed file under `services/<name>/`."""
    touched = {p.split("/")[1] for p in paths if p.startswith("services/") and p.count("/") >= 2}
    return [s for s in SERVICES if s in touched]


def git_changed_paths(base: str, head: str) -> list[str]:
    # A new branch's first push has no `before` (all zeros): treat every service as changed.
    if not base or _ALL_ZEROS.fullmatch(base):
        return [f"services/{s}/" + "x" for s in SERVICES]
    out = subprocess.run(["git", "diff", "--name-only", base, head], check=True, capture_output=True, text=True,
                         cwd=ROOT).stdout  # fmt: skip
    return out.splitlines()


def ecr_prefix(stack: str) -> str:
    data = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()) or {}
    delivery = (data.get("config") or {}).get(f"{NAMESPACE}:delivery") or {}
    return str(delivery.get("ecrRepositoryPrefix") or "ecommerce")


def set_image_tags(text: str, tag: str, services: Sequence[str]) -> str:
    """Set `imageTags.<svc>: "<tag>"` under the `ecommerce-platform:cluster:` block, keeping every other line.

    A line-based edit on purpose: a YAML round trip would drop the stack file's comments.
    """
    if not _SHA.fullmatch(tag):
        raise ValueError(f"image tag {tag!r} is not a commit SHA; tags are immutable and named by commit")
    unknown = [s for s in services if s not in SERVICES]
    if unknown:
        raise ValueError(f"unknown services {unknown}; known: {', '.join(SERVICES)}")
    lines = text.splitlines()
    header = f"  {NAMESPACE}:{IMAGE_TAGS_SECTION}:"
    if header not in lines:
        lines.append(header)
    start = lines.index(header) + 1
    end = start
    while end < len(lines) and (lines[end].startswith("    ") or not lines[end].strip()):
        end += 1
    block = lines[start:end]
    tags_line = f"    {IMAGE_TAGS_KEY}:"
    if tags_line not in block:
        block.append(tags_line)
    t = block.index(tags_line) + 1
    t_end = t
    while t_end < len(block) and block[t_end].startswith("      "):
        t_end += 1
    entries = {ln.strip().split(":", 1)[0]: ln for ln in block[t:t_end]}
    for svc in services:
        entries[svc] = f'      {svc}: "{tag}"'
    ordered = [entries[s] for s in SERVICES if s in entries] + [
        v for k, v in entries.items() if k not in SERVICES
    ]
    block[t:t_end] = ordered
    lines[start:end] = block
    result = "\n".join(lines) + "\n"
    yaml.safe_load(result)  # the edit must leave valid YAML
    return result


Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def push_image(repository: str, tag: str, local: str, run: Runner = subprocess.run) -> bool:
    """Push `local` as `<repository>:<tag>`; False (and nothing pushed) when the repository already has the tag.

    The repositories are IMMUTABLE: pushing an existing tag fails (ECR user guide, "Image tag mutability"), so a
    re-run of the images workflow for the same commit would fail where it should find its work already done. Only
    ECR's `ImageNotFoundException` means "push it"; any other error (access denied, no such repository) stops here.
    """
    found = run(["aws", "ecr", "describe-images", "--repository-name", repository, "--image-ids",
                 f"imageTag={tag}"], capture_output=True, text=True, check=False)  # fmt: skip
    if found.returncode == 0:
        print(f"{repository}:{tag} is already in ECR; tags are immutable, nothing to push")
        return False
    if "ImageNotFoundException" not in found.stderr:
        raise RuntimeError(f"aws ecr describe-images {repository}:{tag} failed: {found.stderr.strip()}")
    uri = run(["aws", "ecr", "describe-repositories", "--repository-names", repository, "--query",
               "repositories[0].repositoryUri", "--output", "text"], capture_output=True, text=True,
              check=True).stdout.strip()  # fmt: skip
    password = run(["aws", "ecr", "get-login-password"], capture_output=True, text=True, check=True).stdout
    run(["docker", "login", "--username", "AWS", "--password-stdin", uri.split("/", 1)[0]], input=password,
        text=True, check=True)  # fmt: skip
    run(["docker", "tag", local, f"{uri}:{tag}"], check=True)
    run(["docker", "push", f"{uri}:{tag}"], check=True)
    return True


Send = Callable[[str, str, dict[str, Any] | None], Any]


def github_send(token: str, api: str = "https://api.github.com") -> Send:
    """`send(method, path, body)` against GitHub's REST API with the job's token; the decoded JSON answer."""

    def send(method: str, path: str, body: dict[str, Any] | None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{api}{path}", data=data, method=method, headers={
            "Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json"})  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read() or b"null")

    return send


def pr_comment(send: Send, repo: str, number: int, marker: str, text: str) -> str:
    """Post `text` on pull request `number`, or edit the comment an earlier run posted (it starts with the marker
    line), so each push updates one comment rather than adding another. Pull-request comments are issue comments
    in GitHub's REST API (`/repos/{repo}/issues/{number}/comments`)."""
    tag = f"<!-- {marker} -->"
    body = {"body": f"{tag}\n{text}"}
    for comment in send("GET", f"/repos/{repo}/issues/{number}/comments?per_page=100", None) or []:
        if str(comment.get("body", "")).startswith(tag):
            send("PATCH", f"/repos/{repo}/issues/comments/{comment['id']}", body)
            return "edited"
    send("POST", f"/repos/{repo}/issues/{number}/comments", body)
    return "posted"


def main(argv: Sequence[str]) -> int:
    if len(argv) >= 3 and argv[0] == "changed-services":
        print(json.dumps(changed_services(git_changed_paths(argv[1], argv[2]))))
    elif len(argv) == 2 and argv[0] == "ecr-prefix":
        print(ecr_prefix(argv[1]))
    elif len(argv) >= 4 and argv[0] == "set-image-tags":
        path = ROOT / f"Pulumi.{argv[1]}.yaml"
        path.write_text(set_image_tags(path.read_text(), argv[2], argv[3:]))
    elif len(argv) == 4 and argv[0] == "push-image":
        push_image(argv[1], argv[2], argv[3])
    elif len(argv) == 3 and argv[0] == "pr-comment":
        env = os.environ
        send = github_send(env["GH_TOKEN"], env.get("GITHUB_API_URL", "https://api.github.com"))
        text = Path(argv[2]).read_text(encoding="utf-8")
        print(pr_comment(send, env["GITHUB_REPOSITORY"], int(env["PR_NUMBER"]), argv[1], text))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
