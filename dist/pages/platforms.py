"""The visitor's platform from a User-Agent, and a release's downloads ordered with it first."""

from __future__ import annotations

import re
from collections.abc import Sequence

from dist.domain.entities import Artifact

_ARM = re.compile(r"aarch64|arm64|armv8", re.IGNORECASE)
_X64 = re.compile(r"x86_64|x64|win64|wow64|amd64", re.IGNORECASE)

OS_NAMES = {"windows": "Windows", "darwin": "macOS", "linux": "Linux", "any": "any platform"}
ARCH_NAMES = {"x86_64": "x86-64", "aarch64": "ARM64", "universal": "Universal", "arm64": "ARM64"}


def visitor_platforms(user_agent: str | None) -> tuple[str, ...]:
    """The platforms a visitor with this User-Agent would want, best first (empty when unknown: a phone, a bot).
    Browsers on macOS report an Intel Mac whatever the machine, so a universal build comes first there."""
    agent = user_agent or ""
    if "Android" in agent or "iPhone" in agent or "iPad" in agent:
        return ()
    if "Windows" in agent:
        arch = "aarch64" if _ARM.search(agent) else "x86_64"
        other = "x86_64" if arch == "aarch64" else "aarch64"
        return (f"windows-{arch}", f"windows-{other}")
    if "Macintosh" in agent or "Mac OS X" in agent:
        return ("darwin-universal", "darwin-aarch64", "darwin-x86_64")
    if "Linux" in agent or "X11" in agent:
        arch = "aarch64" if _ARM.search(agent) else "x86_64"
        other = "x86_64" if arch == "aarch64" else "aarch64"
        return (f"linux-{arch}", f"linux-{other}")
    return ()


def visitor_key(user_agent: str | None) -> str:
    """What of the User-Agent a page depends on: the cache keeps one page per value."""
    return ",".join(visitor_platforms(user_agent))


def ordered_for(preferred: tuple[str, ...], artifacts: Sequence[Artifact]) -> list[Artifact]:
    """`artifacts` with the visitor's platforms first (in their order), then the rest of their system, then
    builds for any platform, then the others, each group in release order."""
    family = preferred[0].split("-")[0] + "-" if preferred else None

    def rank(artifact: Artifact) -> tuple[int, int]:
        if artifact.platform in preferred:
            return (0, preferred.index(artifact.platform))
        if family is not None and artifact.platform.startswith(family):
            return (1, 0)
        if artifact.platform == "any" and preferred:
            return (2, 0)
        return (3, 0)

    return sorted(artifacts, key=rank)


def platform_label(platform: str) -> str:
    """`linux-x86_64` as "Linux x86-64", `darwin-universal` as "macOS Universal"; others as they are."""
    system, _, arch = platform.partition("-")
    if system not in OS_NAMES:
        return platform
    if not arch:
        return OS_NAMES[system]
    return f"{OS_NAMES[system]} {ARCH_NAMES.get(arch, arch)}"
