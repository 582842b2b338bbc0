"""The feed view model: what every feed format renders, built from domain entities with absolute URLs.

A format module reads only these types, so a new format is one new module over them.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from datetime import datetime

from dist.domain.entities import Artifact, Release
from dist.domain.errors import NotFound, Unavailable
from dist.domain.render import artifact_url
from dist.domain.rollouts import Rollout, effective_percent


@dataclass(frozen=True, slots=True)
class FeedFile:
    """One artifact as a feed names it. Digests are hex; a signature is None when the artifact has none."""

    filename: str
    platform: str
    url: str
    size: int
    sha256: str
    sha512: str | None = None
    sha1: str | None = None
    minisign: str | None = None
    ed25519: str | None = None

    def sha512_base64(self) -> str:
        return base64.b64encode(bytes.fromhex(self.required("sha512", self.sha512))).decode()

    def sha1_upper(self) -> str:
        return self.required("sha1", self.sha1).upper()

    def required(self, name: str, digest: str | None) -> str:
        # A feed never goes out without the digests its updater checks; they are computed from the bytes.
        if digest is None:
            raise Unavailable("feed.digest_pending", f"the {name} of {self.filename} is not computed yet")
        return digest


@dataclass(frozen=True, slots=True)
class FeedRelease:
    version: str
    notes: str
    published_at: datetime
    files: tuple[FeedFile, ...]

    def of_platform(self, platform: str) -> list[FeedFile]:
        """The files built for `platform`, or else those built for `any`, in release order."""
        exact = [f for f in self.files if f.platform == platform]
        return exact or [f for f in self.files if f.platform == "any"]


@dataclass(frozen=True, slots=True)
class Staging:
    """What updaters that bucket their users themselves are told during a rollout: the share of users that
    take the release now (electron-updater) and the interval between phases (Sparkle)."""

    percent: int
    phase_seconds: int | None = None
    # Where Sparkle's phases count from (its pubDate during a rollout): the ramp's start, halts left out.
    phases_from: datetime | None = None


# Sparkle puts each installation in one of 7 groups; group g may update phasedRolloutInterval * g after pubDate.
SPARKLE_GROUPS = 7


def staging_of(rollout: Rollout, now: datetime) -> Staging | None:
    """What a rollout tells updaters that bucket themselves, None once it is complete. Sparkle gets phases only
    for a ramp that is moving: its 7 groups are spread evenly from the ramp's start to the instant it reaches
    100, so the last group updates when the ramp completes (a fixed or halted share has no Sparkle form)."""
    schedule = rollout.schedule
    percent = effective_percent(schedule, now)
    if percent >= 100:
        return None
    if schedule.every is None or schedule.halted_at is not None:
        return Staging(percent)
    start = schedule.started_at + schedule.halted_for
    span = schedule.every * (len(schedule.steps) - 1)
    phase = max(1, math.ceil(span.total_seconds() / (SPARKLE_GROUPS - 1)))
    return Staging(percent, phase_seconds=phase, phases_from=start)


@dataclass(frozen=True, slots=True)
class ChannelFeed:
    """The release one channel serves to the client asking, in the shape every format renders."""

    app: str
    app_name: str
    channel: str
    is_default: bool
    release: FeedRelease
    staging: Staging | None = None


def feed_file(base_url: str, release: Release, artifact: Artifact) -> FeedFile:
    return FeedFile(
        filename=artifact.filename,
        platform=artifact.platform,
        url=base_url + artifact_url(release.app, release.version, artifact.filename),
        size=artifact.size,
        sha256=artifact.sha256,
        sha512=artifact.sha512,
        sha1=artifact.sha1,
        # Tauri's updater takes the signature file as base64 of its text, as `tauri signer sign` writes it.
        minisign=None
        if artifact.signatures.minisign is None
        else base64.b64encode(artifact.signatures.minisign.encode()).decode(),
        ed25519=artifact.signatures.ed25519,
    )


def feed_release(base_url: str, release: Release) -> FeedRelease:
    """`release` with absolute download URLs under `base_url` (scheme, host and any path prefix, no slash)."""
    files = tuple(feed_file(base_url, release, a) for a in release.artifacts)
    return FeedRelease(version=release.version, notes=release.notes, published_at=release.created_at, files=files)


def no_artifact(feed: ChannelFeed, platform: str) -> NotFound:
    """The refusal when the served release has nothing for `platform`: the same as the update check's."""
    return NotFound(
        "artifact.not_found",
        f"{feed.app} {feed.release.version} on {feed.channel} has no artifact for {platform}",
    )
